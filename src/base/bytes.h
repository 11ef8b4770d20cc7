// Byte encodings and hashes used across modules: lower-case hex, base64
// (RFC 4648, standard padded and URL-safe unpadded), SHA-256 and
// BLAKE2b-256, all on libsodium, and the one place libsodium is initialised.
//
// Every function calls EnsureSodium() itself where libsodium needs it.
// Thread-safe: no function shares state but the once-only initialisation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg {

// Initialises libsodium once per process (std::call_once); later calls are
// free. Aborts only if libsodium cannot start (no usable randomness source).
void EnsureSodium();

// Lower-case hex of `bytes`, and back: nullopt unless `hex` is hex digits
// (either case) in pairs.
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

enum class Base64Variant {
  kStandard,          // "+/", padded with "=" (release formats, embeddings)
  kUrlSafeNoPadding,  // "-_", unpadded (API keys, <ENC:...> tokens)
};

std::string Base64Encode(std::string_view bytes, Base64Variant variant = Base64Variant::kStandard);
// Refuses anything but the canonical encoding in `variant` (no whitespace,
// no stray bits, padding exactly as the variant has it), so one value has
// exactly one encoding. Fails with Corruption.
Result<std::string> Base64Decode(std::string_view text,
                                 Base64Variant variant = Base64Variant::kStandard);

// SHA-256 of `bytes`, as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view bytes);

// SHA-256 over data given in pieces. Not copyable; one thread at a time.
class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything given, as 64 lower-case hex digits; call once.
  std::string FinishHex();

 private:
  alignas(64) unsigned char state_[128];  // crypto_hash_sha256_state
};

// BLAKE2b with a 32-byte output, unkeyed: 32 raw bytes.
std::string Blake2b256(std::string_view bytes);

}  // namespace mg
