// Key pairs of the release formats and their text files.
//
// A vendor signs with an Ed25519 key pair ("sign"); a deployment receives
// encrypted bundles with an X25519 key pair ("deploy"). Each pair is two
// one-line JSON files, NAME.key (secret, written 0600) and NAME.pub; see
// docs/release-formats.md. Keys are named by a key id: the first 8 bytes of
// BLAKE2b-256 of the public key, in hex.
//
// Secret bytes are wiped when their holder is destroyed, and no error message
// ever quotes a key file's contents. Key objects are immutable after loading
// and thread-safe to read.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg::release {

enum class KeyKind { kSign, kDeploy };

inline constexpr char kKeyFormat[] = "modelgate-key";
inline constexpr int kKeyVersion = 1;

// The Ed25519 public key a verifier pins.
class VerifyKey {
 public:
  static constexpr size_t kSize = 32;
  static Result<VerifyKey> Parse(std::string_view text);
  static Result<VerifyKey> Load(const std::string& path);
  static VerifyKey FromBytes(std::string_view bytes);

  // True when `signature` (64 bytes) is a valid Ed25519 signature of `message`.
  bool Verify(std::string_view message, std::string_view signature) const;
  const std::string& key_id() const { return key_id_; }
  std::string_view bytes() const {
    return std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  }

 private:
  std::array<uint8_t, kSize> bytes_{};
  std::string key_id_;
};

// The vendor's Ed25519 secret key (the 32-byte seed and the public key).
class SigningKey {
 public:
  // `passphrase` unlocks a passphrase-protected file (ignored otherwise).
  static Result<SigningKey> Parse(std::string_view text, std::string_view passphrase = {});
  static Result<SigningKey> Load(const std::string& path, std::string_view passphrase = {});

  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  ~SigningKey();

  // The 64-byte Ed25519 signature of `message`.
  std::string Sign(std::string_view message) const;
  const VerifyKey& public_key() const { return public_key_; }
  const std::string& key_id() const { return public_key_.key_id(); }

 private:
  SigningKey() = default;
  std::array<uint8_t, 64> secret_{};  // libsodium's seed || public key
  VerifyKey public_key_;
};

// A deployment's X25519 key pair halves (used by bundles).
struct DeployPublicKey {
  std::array<uint8_t, 32> bytes{};
  std::string key_id;
  static Result<DeployPublicKey> Load(const std::string& path);
};

// The deployment's X25519 secret key (with its public half), which opens
// bundles sealed to it. Wiped when destroyed.
class DeploySecretKey {
 public:
  static Result<DeploySecretKey> Parse(std::string_view text, std::string_view passphrase = {});
  static Result<DeploySecretKey> Load(const std::string& path, std::string_view passphrase = {});
  DeploySecretKey(const DeploySecretKey& other) = default;
  DeploySecretKey& operator=(const DeploySecretKey& other) = default;
  ~DeploySecretKey();

  const std::array<uint8_t, 32>& secret() const { return secret_; }
  const DeployPublicKey& public_key() const { return public_key_; }
  const std::string& key_id() const { return public_key_.key_id; }

 private:
  DeploySecretKey() = default;
  std::array<uint8_t, 32> secret_{};
  DeployPublicKey public_key_;
};

// The text of a freshly generated pair. `secret_text` must be written with
// mode 0600 and never shown.
struct KeyPairFiles {
  std::string secret_text;
  std::string public_text;
  std::string key_id;
  KeyPairFiles() = default;
  KeyPairFiles(const KeyPairFiles&) = delete;
  KeyPairFiles& operator=(const KeyPairFiles&) = delete;
  KeyPairFiles(KeyPairFiles&&) = default;
  ~KeyPairFiles();
};

// With a non-empty `passphrase`, the secret is stored encrypted with
// XChaCha20-Poly1305 under a key derived from it with Argon2id.
KeyPairFiles GenerateKeyPair(KeyKind kind, std::string_view passphrase = {});

// Generates a pair and writes NAME.key (0600) and NAME.pub, refusing to
// overwrite either. Returns the key id.
Result<std::string> WriteNewKeyPair(const std::string& name, KeyKind kind,
                                    std::string_view passphrase = {});

// The passphrase held in environment variable `var`; empty when `var` is
// empty. Fails when the variable is unset or empty. Never logs the value.
Result<std::string> PassphraseFromEnv(const std::string& var);

}  // namespace mg::release
