#include "release/bundle.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "model/mapped_file.h"
#include "release/encoding.h"
#include "release/signature.h"

namespace mg::release {
namespace {

constexpr size_t kHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr size_t kTagBytes = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr size_t kDigestBytes = 32;
static_assert(kBundleSealedKeySize == crypto_box_SEALBYTES + 32);
static_assert(kBundleSignatureSize == 2 * crypto_sign_BYTES);

// One independent secretstream: part of one file.
struct StreamJob {
  size_t file = 0;
  uint64_t stream = 0;        // index within the file
  uint64_t plain_offset = 0;  // within the file
  uint64_t plain_size = 0;
  uint64_t cipher_offset = 0;  // within the bundle
  uint64_t cipher_size = 0;
};

std::vector<StreamJob> PlanStreams(const BundleMetadata& m, uint64_t payload_offset) {
  std::vector<StreamJob> jobs;
  const uint64_t stream_bytes = m.chunk_size * m.stream_chunks;
  uint64_t offset = payload_offset;
  for (size_t f = 0; f < m.files.size(); ++f) {
    const uint64_t size = m.files[f].size;
    uint64_t done = 0;
    for (uint64_t s = 0; s == 0 || done < size; ++s) {
      StreamJob job;
      job.file = f;
      job.stream = s;
      job.plain_offset = done;
      job.plain_size = std::min(stream_bytes, size - done);
      const uint64_t chunks =
          job.plain_size == 0 ? 1 : (job.plain_size + m.chunk_size - 1) / m.chunk_size;
      job.cipher_offset = offset;
      job.cipher_size = kHeaderBytes + job.plain_size + chunks * kTagBytes;
      offset += job.cipher_size;
      done += job.plain_size;
      jobs.push_back(job);
    }
  }
  return jobs;
}

// Additional data of every chunk of a stream: its file and stream index.
std::array<uint8_t, 12> StreamAd(const StreamJob& job) {
  std::array<uint8_t, 12> ad{};
  for (int i = 0; i < 4; ++i) ad[i] = static_cast<uint8_t>(job.file >> (8 * i));
  for (int i = 0; i < 8; ++i) ad[4 + i] = static_cast<uint8_t>(job.stream >> (8 * i));
  return ad;
}

void PutLe(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetLe(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
  return value;
}

std::string Digest(std::string_view bytes) {
  unsigned char digest[kDigestBytes];
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

// BLAKE2b-256 of a stream's header and the 16-byte tag (MAC) of each chunk.
std::string TagDigest(const uint8_t* c, const StreamJob& job, uint64_t chunk_size) {
  crypto_generichash_state hash;
  crypto_generichash_init(&hash, nullptr, 0, kDigestBytes);
  crypto_generichash_update(&hash, c, kHeaderBytes);
  uint64_t done = 0;
  uint64_t pos = kHeaderBytes;
  do {
    const uint64_t n = std::min(chunk_size, job.plain_size - done);
    pos += n + kTagBytes;
    crypto_generichash_update(&hash, c + pos - crypto_aead_chacha20poly1305_ietf_ABYTES,
                              crypto_aead_chacha20poly1305_ietf_ABYTES);
    done += n;
  } while (done < job.plain_size);
  unsigned char digest[kDigestBytes];
  crypto_generichash_final(&hash, digest, sizeof(digest));
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

// What the "bundle-seal" signature covers.
std::string SealMessage(std::string_view prefix, std::string_view tags_digest,
                        std::string_view content_signature) {
  std::string message(prefix);
  message.append(tags_digest);
  message.append(content_signature);
  return message;
}

}  // namespace

Result<std::string> SealBundle(BundleInput input, const SigningKey& vendor,
                               const DeployPublicKey& deploy) {
  EnsureSodium();
  std::sort(input.files.begin(), input.files.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  BundleMetadata& m = input.metadata;
  m.version = kBundleVersion;
  m.signer_key_id = vendor.key_id();
  m.signer_public_key = Base64Encode(vendor.public_key().bytes());
  m.deploy_key_id = deploy.key_id;
  m.files.clear();
  for (const auto& [path, bytes] : input.files) m.files.push_back({path, bytes.size()});
  const std::string meta = BundleMetadataToJson(m);
  MG_RETURN_IF_ERROR(ParseBundleMetadata(meta).status());

  std::string out(kBundleMagic, 8);
  PutLe(&out, kBundleVersion, 4);
  PutLe(&out, 0, 4);  // flags
  PutLe(&out, meta.size(), 8);
  out.append(meta);
  unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  unsigned char sealed[kBundleSealedKeySize];
  crypto_box_seal(sealed, key, sizeof(key), deploy.bytes.data());
  out.append(reinterpret_cast<char*>(sealed), sizeof(sealed));

  const std::vector<StreamJob> jobs = PlanStreams(m, out.size());
  std::string digests, tag_digests;
  for (const StreamJob& job : jobs) {
    const size_t start = out.size();
    out.resize(start + job.cipher_size);
    auto* c = reinterpret_cast<unsigned char*>(out.data() + start);
    crypto_secretstream_xchacha20poly1305_state state;
    crypto_secretstream_xchacha20poly1305_init_push(&state, c, key);
    const auto ad = StreamAd(job);
    const auto* plain =
        reinterpret_cast<const unsigned char*>(input.files[job.file].second.data()) +
        job.plain_offset;
    uint64_t done = 0;
    size_t pos = kHeaderBytes;
    do {
      const uint64_t n = std::min(m.chunk_size, job.plain_size - done);
      const unsigned char tag = done + n == job.plain_size
                                    ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                    : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
      crypto_secretstream_xchacha20poly1305_push(&state, c + pos, nullptr, plain + done, n,
                                                 ad.data(), ad.size(), tag);
      pos += n + kTagBytes;
      done += n;
    } while (done < job.plain_size);
    unsigned char digest[kDigestBytes];
    crypto_generichash(digest, sizeof(digest), c, job.cipher_size, nullptr, 0);
    digests.append(reinterpret_cast<char*>(digest), sizeof(digest));
    tag_digests.append(TagDigest(c, job, m.chunk_size));
  }
  sodium_memzero(key, sizeof(key));
  const size_t prefix = kBundleHeaderSize + meta.size() + kBundleSealedKeySize;
  const std::string content = out.substr(0, prefix) + Digest(tag_digests) + Digest(digests);
  const std::string content_signature = vendor.Sign(SignedMessage(kBundleType, content));
  const std::string seal =
      SealMessage(out.substr(0, prefix), Digest(tag_digests), content_signature);
  out.append(content_signature);
  out.append(vendor.Sign(SignedMessage(kBundleSealType, seal)));
  return out;
}

bool IsBundlePath(const std::string& path) {
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".mgb") == 0) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, 8) && std::memcmp(magic, kBundleMagic, 8) == 0;
}

Result<BundleContents> OpenBundle(const std::string& path, const VerifyKey* vendor,
                                  const DeploySecretKey* deploy) {
  EnsureSodium();
  auto fail = [&](const std::string& why) {
    return CorruptionError("bundle " + path + ": " + why);
  };
  Result<std::unique_ptr<model::MappedFile>> mapped = model::MappedFile::Open(path);
  if (!mapped.ok()) {
    if (mapped.status().code() == StatusCode::kInvalidArgument) return fail("empty file");
    return mapped.status();
  }
  const uint8_t* base = (*mapped)->data();
  const uint64_t size = (*mapped)->size();
  if (size < 8 || std::memcmp(base, kBundleMagic, 8) != 0) {
    return fail("not a modelgate bundle (bad magic)");
  }
  if (size < kBundleHeaderSize) return fail("truncated header");
  const uint64_t version = GetLe(base + 8, 4);
  if (version != kBundleVersion) {
    return fail("format version " + std::to_string(version) +
                " is not supported (this build reads version " + std::to_string(kBundleVersion) +
                " only)");
  }
  if (GetLe(base + 12, 4) != 0) return fail("unknown header flags");
  const uint64_t meta_size = GetLe(base + 16, 8);
  if (meta_size > (uint64_t{1} << 24) || kBundleHeaderSize + meta_size > size) {
    return fail("truncated or malformed metadata (length " + std::to_string(meta_size) + ")");
  }
  Result<BundleMetadata> parsed = ParseBundleMetadata(
      std::string_view(reinterpret_cast<const char*>(base + kBundleHeaderSize), meta_size));
  if (!parsed.ok()) return fail(parsed.status().message());
  BundleContents contents;
  contents.metadata = std::move(parsed).value();
  const BundleMetadata& m = contents.metadata;

  const uint64_t prefix = kBundleHeaderSize + meta_size + kBundleSealedKeySize;
  uint64_t expected = prefix + kBundleSignatureSize;
  for (const BundleFile& file : m.files) expected += EncryptedFileSize(file.size, m);
  if (size < expected) {
    return fail("truncated (" + std::to_string(size) + " bytes, expected " +
                std::to_string(expected) + ")");
  }
  if (size > expected) {
    return fail(std::to_string(size - expected) + " unexpected bytes after the signature");
  }

  Result<std::string> signer_bytes = Base64Decode(m.signer_public_key);
  if (!signer_bytes.ok() || signer_bytes->size() != VerifyKey::kSize ||
      KeyIdOf(*signer_bytes) != m.signer_key_id) {
    return fail("malformed signer public key");
  }
  if (vendor != nullptr && vendor->key_id() != m.signer_key_id) {
    return fail("signed by another key (key id " + m.signer_key_id + ", expected " +
                vendor->key_id() + ")");
  }
  const VerifyKey signer = vendor != nullptr ? *vendor : VerifyKey::FromBytes(*signer_bytes);
  if (deploy != nullptr && deploy->key_id() != m.deploy_key_id) {
    return fail("sealed to another deployment key (key id " + m.deploy_key_id +
                "), not to this one (" + deploy->key_id() + ")");
  }

  // The seal signature covers the header, metadata, sealed key, every
  // stream header and tag, and the content signature: it is checked before
  // anything is allocated for the files, so an unsigned bundle costs no
  // more than reading its tags. (The layout was checked above: every
  // stream lies inside the file.)
  const std::vector<StreamJob> jobs = PlanStreams(m, prefix);
  std::string all_tags;
  all_tags.reserve(jobs.size() * kDigestBytes);
  for (const StreamJob& job : jobs) {
    all_tags.append(TagDigest(base + job.cipher_offset, job, m.chunk_size));
  }
  const std::string tags_digest = Digest(all_tags);
  const std::string_view prefix_bytes(reinterpret_cast<const char*>(base), prefix);
  const std::string_view content_signature(
      reinterpret_cast<const char*>(base + expected - kBundleSignatureSize), 64);
  const std::string_view seal_signature(reinterpret_cast<const char*>(base + expected - 64), 64);
  const std::string seal = SealMessage(prefix_bytes, tags_digest, content_signature);
  if (!signer.Verify(SignedMessage(kBundleSealType, seal), seal_signature)) {
    return fail("signature does not match: the bundle was altered after signing");
  }

  unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  if (deploy != nullptr) {
    if (crypto_box_seal_open(key, base + kBundleHeaderSize + meta_size, kBundleSealedKeySize,
                             deploy->public_key().bytes.data(), deploy->secret().data()) != 0) {
      return fail("the content key cannot be opened with this deployment key (altered bundle)");
    }
    for (const BundleFile& file : m.files) {
      auto buffer = std::make_shared<SecretBuffer>(file.size);
      if (!buffer->ok()) {
        sodium_memzero(key, sizeof(key));
        return InternalError("bundle " + path + ": out of memory for " + file.path);
      }
      contents.memory_locked = contents.memory_locked && (file.size == 0 || buffer->locked());
      contents.files[file.path] = std::move(buffer);
    }
  }
  std::vector<char*> outputs;
  for (const BundleFile& file : m.files) {
    outputs.push_back(deploy ? contents.files[file.path]->data() : nullptr);
  }

  // Every stream in parallel: with the deployment key, decrypt it (each
  // chunk's tag checked); without, hash all its bytes for the content
  // signature.
  std::vector<std::string> digests(jobs.size()), errors(jobs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      const StreamJob& job = jobs[i];
      const uint8_t* c = base + job.cipher_offset;
      if (deploy == nullptr) {
        digests[i] = Digest(std::string_view(reinterpret_cast<const char*>(c), job.cipher_size));
        continue;
      }
      crypto_secretstream_xchacha20poly1305_state state;
      bool ok = crypto_secretstream_xchacha20poly1305_init_pull(&state, c, key) == 0;
      const auto ad = StreamAd(job);
      uint64_t done = 0;
      uint64_t pos = kHeaderBytes;
      while (ok) {
        const uint64_t n = std::min(m.chunk_size, job.plain_size - done);
        unsigned char tag = 0;
        auto* out = reinterpret_cast<unsigned char*>(outputs[job.file] + job.plain_offset + done);
        ok =
            crypto_secretstream_xchacha20poly1305_pull(&state, out, nullptr, &tag, c + pos,
                                                       n + kTagBytes, ad.data(), ad.size()) == 0 &&
            tag == (done + n == job.plain_size ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                               : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        pos += n + kTagBytes;
        done += n;
        if (done >= job.plain_size) break;
      }
      if (!ok) {
        errors[i] = m.files[job.file].path + " (stream " + std::to_string(job.stream) +
                    ") fails authentication";
      }
    }
  };
  const size_t threads =
      std::min<size_t>({jobs.size(), std::max(1u, std::thread::hardware_concurrency()), 16});
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  sodium_memzero(key, sizeof(key));

  if (deploy == nullptr) {
    std::string all;
    for (const std::string& digest : digests) all.append(digest);
    const std::string message = std::string(prefix_bytes) + tags_digest + Digest(all);
    if (!signer.Verify(SignedMessage(kBundleType, message), content_signature)) {
      return fail("signature does not match: the bundle's contents were altered after signing");
    }
  }
  for (const std::string& error : errors) {
    if (!error.empty()) {
      contents.files.clear();
      return fail(error);
    }
  }
  contents.digest_sha256 = Sha256Hex(seal);
  return contents;
}

}  // namespace mg::release
