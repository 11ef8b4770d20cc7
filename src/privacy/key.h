// PrivacyKey: the 32-byte secret behind the keyed operators (hash,
// pseudonymize, encrypt). Loaded from a file (32 raw bytes, or 64 hex digits
// with optional surrounding whitespace) or from the environment variable
// MODELGATE_PRIVACY_KEY (64 hex digits). Error messages never contain key
// material. The bytes are wiped when the object is destroyed.
//
// Each operator uses its own subkey derived with BLAKE2b (crypto_kdf), so a
// published hash reveals nothing about pseudonyms or ciphertexts.
//
// Immutable; thread-safe to read.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg::privacy {

inline constexpr char kPrivacyKeyEnv[] = "MODELGATE_PRIVACY_KEY";

using KeyBytes = std::array<uint8_t, 32>;

enum class KeyPurpose : uint64_t { kHash = 1, kPseudonym = 2, kCipher = 3, kNonce = 4 };

class PrivacyKey {
 public:
  static constexpr size_t kSize = 32;

  // Reads `path`. Fails naming the path, never quoting the contents.
  static Result<PrivacyKey> FromFile(const std::string& path);
  // 64 hex digits (surrounding whitespace ignored).
  static Result<PrivacyKey> FromHex(std::string_view hex);
  // From MODELGATE_PRIVACY_KEY; NotFound when it is unset or empty.
  static Result<PrivacyKey> FromEnvironment();
  static PrivacyKey FromBytes(const KeyBytes& bytes) { return PrivacyKey(bytes); }

  PrivacyKey(const PrivacyKey& other) = default;
  PrivacyKey& operator=(const PrivacyKey& other) = default;
  ~PrivacyKey();

  // The subkey for one purpose.
  KeyBytes Derive(KeyPurpose purpose) const;

 private:
  explicit PrivacyKey(const KeyBytes& bytes) : bytes_(bytes) {}
  KeyBytes bytes_;
};

// Overwrites `bytes` with zeros in a way the compiler keeps.
void WipeKey(KeyBytes* bytes);

}  // namespace mg::privacy
