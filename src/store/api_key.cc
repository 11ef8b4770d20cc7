#include "store/api_key.h"

#include <sodium.h>

#include "base/bytes.h"
#include "base/status.h"

namespace mg::store {
namespace {

std::string ToHex(const unsigned char* bytes, size_t size) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), size));
}

}  // namespace

std::string GenerateApiKey() {
  EnsureSodium();
  unsigned char random[32];
  randombytes_buf(random, sizeof(random));
  std::string encoded =
      Base64Encode(std::string_view(reinterpret_cast<const char*>(random), sizeof(random)),
                   Base64Variant::kUrlSafeNoPadding);
  sodium_memzero(random, sizeof(random));
  std::string key = "mg_";
  key.append(encoded);
  sodium_memzero(encoded.data(), encoded.size());
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
  EnsureSodium();
  return HexEncode(Blake2b256(key));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string GenerateKeyId() {
  EnsureSodium();
  unsigned char random[8];
  randombytes_buf(random, sizeof(random));
  return "key_" + ToHex(random, sizeof(random));
}

}  // namespace mg::store
