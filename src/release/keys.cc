#include "release/keys.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "release/encoding.h"

namespace mg::release {
namespace {

constexpr char kSignSecret[] = "ed25519-secret";
constexpr char kSignPublic[] = "ed25519-public";
constexpr char kDeploySecret[] = "x25519-secret";
constexpr char kDeployPublic[] = "x25519-public";
constexpr char kKdfName[] = "argon2id13";

void Wipe(std::string* s) {
  if (!s->empty()) sodium_memzero(s->data(), s->size());
  s->clear();
}

std::string KeyLine(const char* type, std::string_view key_id, std::string_view bytes,
                    std::string_view passphrase = {}) {
  nlohmann::json j = {{"format", kKeyFormat},
                      {"version", kKeyVersion},
                      {"type", type},
                      {"key_id", std::string(key_id)}};
  if (passphrase.empty()) {
    j["key"] = Base64Encode(bytes);
    return j.dump() + "\n";
  }
  unsigned char salt[crypto_pwhash_SALTBYTES];
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  unsigned char wrap[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  randombytes_buf(salt, sizeof(salt));
  randombytes_buf(nonce, sizeof(nonce));
  const uint64_t opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  const uint64_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  MG_CHECK_MSG(crypto_pwhash(wrap, sizeof(wrap), passphrase.data(), passphrase.size(), salt,
                             opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) == 0,
               "out of memory deriving the key-wrapping key");
  const std::string ad = std::string(type) + "\n" + std::string(key_id);
  std::string ciphertext(bytes.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(ciphertext.data()), nullptr,
      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce, wrap);
  sodium_memzero(wrap, sizeof(wrap));
  j["kdf"] = kKdfName;
  j["opslimit"] = opslimit;
  j["memlimit"] = memlimit;
  j["salt"] = Base64Encode(std::string_view(reinterpret_cast<char*>(salt), sizeof(salt)));
  j["nonce"] = Base64Encode(std::string_view(reinterpret_cast<char*>(nonce), sizeof(nonce)));
  j["ciphertext"] = Base64Encode(ciphertext);
  return j.dump() + "\n";
}

// Decrypts the "ciphertext" of a passphrase-protected secret key file.
Result<std::string> UnwrapSecret(const nlohmann::json& j, const std::string& type,
                                 const std::string& key_id, size_t size,
                                 std::string_view passphrase) {
  for (const char* field : {"kdf", "salt", "nonce", "ciphertext"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return CorruptionError(std::string("key file lacks \"") + field + "\"");
    }
  }
  for (const char* field : {"opslimit", "memlimit"}) {
    if (!j.contains(field) || !j[field].is_number_unsigned()) {
      return CorruptionError(std::string("key file lacks \"") + field + "\"");
    }
  }
  if (j.size() != 10) return CorruptionError("key file has unknown fields");
  if (j["kdf"].get<std::string>() != kKdfName) return CorruptionError("unknown key derivation");
  const uint64_t opslimit = j["opslimit"].get<uint64_t>();
  const uint64_t memlimit = j["memlimit"].get<uint64_t>();
  if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > 16 ||
      memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > (uint64_t{1} << 30)) {
    return CorruptionError("key derivation limits out of range");
  }
  Result<std::string> salt = Base64Decode(j["salt"].get<std::string>());
  Result<std::string> nonce = Base64Decode(j["nonce"].get<std::string>());
  Result<std::string> ciphertext = Base64Decode(j["ciphertext"].get<std::string>());
  if (!salt.ok() || salt->size() != crypto_pwhash_SALTBYTES || !nonce.ok() ||
      nonce->size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES || !ciphertext.ok() ||
      ciphertext->size() != size + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return CorruptionError("key file holds a malformed key");
  }
  if (passphrase.empty()) {
    return InvalidArgumentError("the secret key is protected by a passphrase (--passphrase-env)");
  }
  unsigned char wrap[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  if (crypto_pwhash(wrap, sizeof(wrap), passphrase.data(), passphrase.size(),
                    reinterpret_cast<const unsigned char*>(salt->data()), opslimit,
                    static_cast<size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return InternalError("out of memory deriving the key-wrapping key");
  }
  const std::string ad = type + "\n" + key_id;
  std::string secret(size, '\0');
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(secret.data()), nullptr, nullptr,
      reinterpret_cast<const unsigned char*>(ciphertext->data()), ciphertext->size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
      reinterpret_cast<const unsigned char*>(nonce->data()), wrap);
  sodium_memzero(wrap, sizeof(wrap));
  if (rc != 0) return InvalidArgumentError("wrong passphrase, or the key file is corrupt");
  return secret;
}

struct ParsedKey {
  std::string bytes;  // wiped by the caller when secret
  std::string key_id;
};

// Parses one key file of `type`; messages never quote the contents.
Result<ParsedKey> ParseKeyLine(std::string_view text, const char* type, size_t size,
                               std::string_view passphrase = {}) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != kKeyFormat) {
    return CorruptionError("not a modelgate key file");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != kKeyVersion) {
    return CorruptionError("unsupported key file version (this build reads version 1)");
  }
  for (const char* field : {"type", "key_id"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return CorruptionError(std::string("key file lacks \"") + field + "\"");
    }
  }
  const std::string found = j["type"].get<std::string>();
  if (found != type) {
    return InvalidArgumentError("expected key type " + std::string(type) + ", found " +
                                (found.size() < 32 ? found : "another kind"));
  }
  ParsedKey parsed;
  if (j.contains("ciphertext") && std::string_view(type).ends_with("-secret")) {
    parsed.key_id = j["key_id"].get<std::string>();
    MG_ASSIGN_OR_RETURN(parsed.bytes, UnwrapSecret(j, found, parsed.key_id, size, passphrase));
    return parsed;
  }
  if (!j.contains("key") || !j["key"].is_string()) {
    return CorruptionError("key file lacks \"key\"");
  }
  if (j.size() != 5) return CorruptionError("key file has unknown fields");
  std::string encoded = j["key"].get<std::string>();
  Result<std::string> bytes = Base64Decode(encoded);
  Wipe(&encoded);
  if (!bytes.ok() || bytes->size() != size) {
    if (bytes.ok()) Wipe(&*bytes);
    return CorruptionError("key file holds a malformed key");
  }
  parsed.bytes = std::move(*bytes);
  parsed.key_id = j["key_id"].get<std::string>();
  return parsed;
}

}  // namespace

VerifyKey VerifyKey::FromBytes(std::string_view bytes) {
  MG_CHECK(bytes.size() == kSize);
  VerifyKey key;
  std::copy(bytes.begin(), bytes.end(), key.bytes_.begin());
  key.key_id_ = KeyIdOf(bytes);
  return key;
}

Result<VerifyKey> VerifyKey::Parse(std::string_view text) {
  EnsureSodium();
  MG_ASSIGN_OR_RETURN(ParsedKey parsed, ParseKeyLine(text, kSignPublic, kSize));
  VerifyKey key = FromBytes(parsed.bytes);
  if (key.key_id_ != parsed.key_id) return CorruptionError("key id does not match the key");
  return key;
}

Result<VerifyKey> VerifyKey::Load(const std::string& path) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Result<VerifyKey> key = Parse(text);
  if (!key.ok()) return key.status().WithContext("public key " + path);
  return key;
}

bool VerifyKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), bytes_.data()) == 0;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

Result<SigningKey> SigningKey::Parse(std::string_view text, std::string_view passphrase) {
  EnsureSodium();
  MG_ASSIGN_OR_RETURN(ParsedKey parsed,
                      ParseKeyLine(text, kSignSecret, crypto_sign_SEEDBYTES, passphrase));
  SigningKey key;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.secret_.data(),
                           reinterpret_cast<const unsigned char*>(parsed.bytes.data()));
  Wipe(&parsed.bytes);
  key.public_key_ = VerifyKey::FromBytes(std::string_view(reinterpret_cast<char*>(pk), sizeof(pk)));
  if (key.public_key_.key_id() != parsed.key_id) {
    return CorruptionError("key id does not match the key");
  }
  return key;
}

Result<SigningKey> SigningKey::Load(const std::string& path, std::string_view passphrase) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path));
  Result<SigningKey> key = Parse(text, passphrase);
  Wipe(&text);
  if (!key.ok()) return key.status().WithContext("secret key " + path);
  return key;
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return signature;
}

Result<DeployPublicKey> DeployPublicKey::Load(const std::string& path) {
  EnsureSodium();
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Result<ParsedKey> parsed = ParseKeyLine(text, kDeployPublic, crypto_box_PUBLICKEYBYTES);
  if (!parsed.ok()) return parsed.status().WithContext("public key " + path);
  DeployPublicKey key;
  std::copy(parsed->bytes.begin(), parsed->bytes.end(), key.bytes.begin());
  key.key_id = KeyIdOf(parsed->bytes);
  if (key.key_id != parsed->key_id) {
    return CorruptionError("public key " + path + ": key id does not match the key");
  }
  return key;
}

DeploySecretKey::~DeploySecretKey() { sodium_memzero(secret_.data(), secret_.size()); }

Result<DeploySecretKey> DeploySecretKey::Parse(std::string_view text, std::string_view passphrase) {
  EnsureSodium();
  MG_ASSIGN_OR_RETURN(ParsedKey parsed,
                      ParseKeyLine(text, kDeploySecret, crypto_box_SECRETKEYBYTES, passphrase));
  DeploySecretKey key;
  std::copy(parsed.bytes.begin(), parsed.bytes.end(), key.secret_.begin());
  Wipe(&parsed.bytes);
  crypto_scalarmult_base(key.public_key_.bytes.data(), key.secret_.data());
  key.public_key_.key_id = KeyIdOf(std::string_view(
      reinterpret_cast<const char*>(key.public_key_.bytes.data()), key.public_key_.bytes.size()));
  if (key.public_key_.key_id != parsed.key_id) {
    return CorruptionError("key id does not match the key");
  }
  return key;
}

Result<DeploySecretKey> DeploySecretKey::Load(const std::string& path,
                                              std::string_view passphrase) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path));
  Result<DeploySecretKey> key = Parse(text, passphrase);
  Wipe(&text);
  if (!key.ok()) return key.status().WithContext("deployment key " + path);
  return key;
}

KeyPairFiles::~KeyPairFiles() { Wipe(&secret_text); }

KeyPairFiles GenerateKeyPair(KeyKind kind, std::string_view passphrase) {
  EnsureSodium();
  KeyPairFiles files;
  if (kind == KeyKind::kSign) {
    unsigned char seed[crypto_sign_SEEDBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    randombytes_buf(seed, sizeof(seed));
    crypto_sign_seed_keypair(pk, sk, seed);
    const std::string_view pub(reinterpret_cast<char*>(pk), sizeof(pk));
    files.key_id = KeyIdOf(pub);
    files.secret_text =
        KeyLine(kSignSecret, files.key_id,
                std::string_view(reinterpret_cast<char*>(seed), sizeof(seed)), passphrase);
    files.public_text = KeyLine(kSignPublic, files.key_id, pub);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
  } else {
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    unsigned char sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(pk, sk);
    const std::string_view pub(reinterpret_cast<char*>(pk), sizeof(pk));
    files.key_id = KeyIdOf(pub);
    files.secret_text =
        KeyLine(kDeploySecret, files.key_id,
                std::string_view(reinterpret_cast<char*>(sk), sizeof(sk)), passphrase);
    files.public_text = KeyLine(kDeployPublic, files.key_id, pub);
    sodium_memzero(sk, sizeof(sk));
  }
  return files;
}

Result<std::string> WriteNewKeyPair(const std::string& name, KeyKind kind,
                                    std::string_view passphrase) {
  const std::string secret_path = name + ".key";
  const std::string public_path = name + ".pub";
  for (const std::string& path : {secret_path, public_path}) {
    if (FileExists(path)) return InvalidArgumentError(path + " already exists; not overwriting it");
  }
  KeyPairFiles files = GenerateKeyPair(kind, passphrase);
  MG_RETURN_IF_ERROR(WriteFileAtomic(secret_path, files.secret_text, 0600));
  Status written = WriteFileAtomic(public_path, files.public_text, 0644);
  if (!written.ok()) {
    std::remove(secret_path.c_str());  // never leave half a pair
    return written;
  }
  return files.key_id;
}

Result<std::string> PassphraseFromEnv(const std::string& var) {
  if (var.empty()) return std::string();
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || *value == '\0') {
    return InvalidArgumentError("passphrase variable " + var + " is not set");
  }
  return std::string(value);
}

}  // namespace mg::release
