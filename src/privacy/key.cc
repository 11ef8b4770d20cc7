#include "privacy/key.h"

#include <sodium.h>

#include <cstdlib>

#include "base/file.h"

namespace mg::privacy {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

void WipeKey(KeyBytes* bytes) { sodium_memzero(bytes->data(), bytes->size()); }

PrivacyKey::~PrivacyKey() { WipeKey(&bytes_); }

Result<PrivacyKey> PrivacyKey::FromHex(std::string_view hex) {
  hex = Trim(hex);
  KeyBytes bytes;
  size_t length = 0;
  const char* end = nullptr;
  if (hex.size() != 2 * kSize ||
      sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, &length, &end) !=
          0 ||
      length != kSize || end != hex.data() + hex.size()) {
    WipeKey(&bytes);
    return InvalidArgumentError("a privacy key must be 64 hex digits (32 bytes)");
  }
  PrivacyKey key(bytes);
  WipeKey(&bytes);
  return key;
}

Result<PrivacyKey> PrivacyKey::FromFile(const std::string& path) {
  Result<std::string> contents = ReadFile(path);
  if (!contents.ok()) return contents.status();
  std::string& data = *contents;
  Result<PrivacyKey> key = InvalidArgumentError("");
  if (data.size() == kSize) {
    KeyBytes bytes;
    std::copy(data.begin(), data.end(), bytes.begin());
    key = PrivacyKey(bytes);
    WipeKey(&bytes);
  } else {
    key = FromHex(data);
  }
  sodium_memzero(data.data(), data.size());
  if (!key.ok()) {
    return InvalidArgumentError("key file " + path + " must hold 32 raw bytes or 64 hex digits");
  }
  return key;
}

Result<PrivacyKey> PrivacyKey::FromEnvironment() {
  const char* value = std::getenv(kPrivacyKeyEnv);
  if (value == nullptr || *value == '\0') {
    return NotFoundError(std::string(kPrivacyKeyEnv) + " is not set");
  }
  Result<PrivacyKey> key = FromHex(value);
  if (!key.ok()) {
    return InvalidArgumentError(std::string(kPrivacyKeyEnv) + " must be 64 hex digits");
  }
  return key;
}

KeyBytes PrivacyKey::Derive(KeyPurpose purpose) const {
  static_assert(crypto_kdf_KEYBYTES == kSize);
  KeyBytes subkey;
  crypto_kdf_derive_from_key(subkey.data(), subkey.size(), static_cast<uint64_t>(purpose),
                             "mgprivcy", bytes_.data());
  return subkey;
}

}  // namespace mg::privacy
