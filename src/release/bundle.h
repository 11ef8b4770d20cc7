// Bundles (.mgb): a closed release in one file. A versioned header, the
// model's metadata in the clear (model id, labels, release mode, signer,
// deployment key id, whether a licence is required, and for a hybrid head
// the base it was made for), a random content key sealed to the deployment's
// X25519 public key, the files encrypted with XChaCha20-Poly1305
// (libsodium secretstream) in independent streams of 1 MiB chunks, and an
// Ed25519 signatures over all of it. Byte layout: docs/release-formats.md.
//
// Opening checks everything before any plaintext is handed out: the magic,
// the version (older and newer versions are refused), the metadata and its
// limits (at most kBundleMaxFiles files, whose encrypted sizes add up to
// exactly the file's size), the signer and the seal signature, all before
// any memory is reserved for decryption; then either (with the deployment
// key) the authentication tag of every chunk, or (without it) the
// signature over every byte. Streams are hashed and decrypted in
// parallel threads straight into SecretBuffers (secret_buffer.h): locked in
// memory where the system allows, excluded from core dumps and wiped when
// released; nothing is ever written to disk.
//
// Functions are thread-safe; BundleContents is immutable once returned.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "release/keys.h"
#include "release/secret_buffer.h"

namespace mg::release {

inline constexpr char kBundleMagic[] = "MGBUNDLE";  // 8 bytes, no terminator on disk
inline constexpr uint32_t kBundleVersion = 1;
inline constexpr char kBundleFormat[] = "modelgate-bundle";
// Signature types (signature.h): "bundle" covers every byte (checked by
// verify, without the deployment key); "bundle-seal" covers the header,
// metadata, sealed key, every stream header and authentication tag, and the
// "bundle" signature, and is what opening with the deployment key checks
// (the tags then vouch for the ciphertext under the content key).
inline constexpr char kBundleType[] = "bundle";
inline constexpr char kBundleSealType[] = "bundle-seal";
inline constexpr uint64_t kBundleChunkSize = uint64_t{1} << 20;
inline constexpr uint64_t kBundleStreamChunks = 16;  // chunks per stream
// At most this many files in a bundle (a release has about ten): a crafted
// bundle cannot make opening it reserve memory per listed file.
inline constexpr size_t kBundleMaxFiles = 1024;

struct BundleFile {
  std::string path;  // relative, '/'-separated
  uint64_t size = 0;
};

// The clear metadata of a bundle.
struct BundleMetadata {
  uint32_t version = kBundleVersion;
  std::string model_id;
  std::string release_mode;  // "closed" or "hybrid"
  std::vector<std::string> labels;
  std::string license;  // SPDX id; may be empty for closed releases
  std::string created_at;
  std::string signer_key_id;
  std::string signer_public_key;  // base64 of the Ed25519 public key
  std::string deploy_key_id;
  bool require_licence = false;
  std::string base_model_id;        // hybrid: the open base's model id
  std::string base_weights_sha256;  // hybrid: SHA-256 of its model.safetensors
  uint64_t chunk_size = kBundleChunkSize;
  uint64_t stream_chunks = kBundleStreamChunks;
  std::vector<BundleFile> files;
};

// What a bundle is made of; each file's bytes are borrowed for the call.
struct BundleInput {
  BundleMetadata metadata;  // files, signer and deploy key ids are filled in
  std::vector<std::pair<std::string, std::string_view>> files;
};

// The complete bundle file image.
Result<std::string> SealBundle(BundleInput input, const SigningKey& vendor,
                               const DeployPublicKey& deploy);

// A verified (and, with a deployment key, decrypted) bundle.
struct BundleContents {
  BundleMetadata metadata;
  std::string digest_sha256;  // SHA-256 of the signed message: names the bundle
  // Decrypted files by path, in locked memory wiped on release; empty when
  // opened without a deployment key.
  std::map<std::string, std::shared_ptr<const SecretBuffer>> files;
  bool memory_locked = true;  // false: RLIMIT_MEMLOCK forbade locking them
};

// Checks the bundle at `path`. `vendor` pins the signer (otherwise the key
// named in the metadata checks the signature, which proves integrity but
// not origin). With `deploy`, also decrypts. Errors name the file and the
// first problem found.
Result<BundleContents> OpenBundle(const std::string& path, const VerifyKey* vendor,
                                  const DeploySecretKey* deploy);

// Whether `path` looks like a bundle (its name ends in .mgb or it starts
// with the magic).
bool IsBundlePath(const std::string& path);

// Metadata JSON, as stored (compact, sorted keys), and its strict parser.
std::string BundleMetadataToJson(const BundleMetadata& metadata);
Result<BundleMetadata> ParseBundleMetadata(std::string_view json);

// Fixed layout sizes.
inline constexpr size_t kBundleHeaderSize = 24;      // magic, version, flags, metadata length
inline constexpr size_t kBundleSealedKeySize = 80;   // crypto_box_SEALBYTES + 32
inline constexpr size_t kBundleSignatureSize = 128;  // "bundle", then "bundle-seal"

// Encrypted size of a file of `size` bytes, and of its stream `index`.
uint64_t EncryptedFileSize(uint64_t size, const BundleMetadata& metadata);

}  // namespace mg::release
