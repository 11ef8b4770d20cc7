#include "store/api_key.h"

#include <sodium.h>

#include "base/status.h"

namespace mg::store {
namespace {

void InitSodium() { MG_CHECK_MSG(sodium_init() >= 0, "libsodium failed to initialise"); }

std::string ToHex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

}  // namespace

std::string GenerateApiKey() {
  InitSodium();
  unsigned char random[32];
  randombytes_buf(random, sizeof(random));
  char encoded[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof(encoded), random, sizeof(random),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(random, sizeof(random));
  std::string key = "mg_";
  key.append(encoded);
  sodium_memzero(encoded, sizeof(encoded));
  return key;
}

bool IsWellFormedApiKey(std::string_view key) {
  if (key.size() != kApiKeyLength || key.substr(0, 3) != "mg_") return false;
  for (char c : key.substr(3)) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string HashApiKey(std::string_view key) {
  InitSodium();
  unsigned char digest[32];
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  return ToHex(digest, sizeof(digest));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string GenerateKeyId() {
  InitSodium();
  unsigned char random[8];
  randombytes_buf(random, sizeof(random));
  return "key_" + ToHex(random, sizeof(random));
}

}  // namespace mg::store
