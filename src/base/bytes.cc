#include "base/bytes.h"

#include <sodium.h>

#include <mutex>

namespace mg {
namespace {

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

int SodiumVariant(Base64Variant variant) {
  return variant == Base64Variant::kStandard ? sodium_base64_VARIANT_ORIGINAL
                                             : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

static_assert(sizeof(crypto_hash_sha256_state) <= 128, "Sha256::state_ is too small");

crypto_hash_sha256_state* State(unsigned char* storage) {
  return reinterpret_cast<crypto_hash_sha256_state*>(storage);
}

}  // namespace

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] { MG_CHECK_MSG(sodium_init() >= 0, "libsodium failed to initialise"); });
}

std::string HexEncode(std::string_view bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), Bytes(bytes), bytes.size());
  hex.pop_back();  // the terminating NUL
  return hex;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  std::string bytes(hex.size() / 2, '\0');
  size_t length = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(),
                     hex.size(), nullptr, &length, nullptr) != 0 ||
      length * 2 != hex.size()) {
    return std::nullopt;
  }
  bytes.resize(length);
  return bytes;
}

std::string Base64Encode(std::string_view bytes, Base64Variant variant) {
  const int sodium_variant = SodiumVariant(variant);
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_variant), '\0');
  sodium_bin2base64(out.data(), out.size(), Bytes(bytes), bytes.size(), sodium_variant);
  out.pop_back();  // the terminating NUL
  return out;
}

Result<std::string> Base64Decode(std::string_view text, Base64Variant variant) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end, SodiumVariant(variant)) != 0 ||
      end != text.data() + text.size()) {
    return CorruptionError("invalid base64");
  }
  out.resize(length);
  if (Base64Encode(out, variant) != text) return CorruptionError("non-canonical base64");
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes);
  return hash.FinishHex();
}

Sha256::Sha256() { crypto_hash_sha256_init(State(state_)); }

void Sha256::Update(std::string_view bytes) {
  crypto_hash_sha256_update(State(state_), Bytes(bytes), bytes.size());
}

std::string Sha256::FinishHex() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(State(state_), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string Blake2b256(std::string_view bytes) {
  std::string digest(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(digest.data()), digest.size(), Bytes(bytes),
                     bytes.size(), nullptr, 0);
  return digest;
}

}  // namespace mg
