// API key secrets: "mg_" followed by 32 random bytes (256 bits) in unpadded
// base64url, 46 characters in all. The secret is shown once on creation; the
// database keeps only its BLAKE2b-256 hash, which is also the lookup key.
// Looking a key up by its hash leaks nothing useful through timing (the
// attacker does not control the hash), and the final comparison of the
// stored and computed hashes is constant-time.
//
// Thread safety: free functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace mg::store {

inline constexpr size_t kApiKeyLength = 46;

// A fresh secret from the system's CSPRNG.
std::string GenerateApiKey();

// True when `key` has the shape of a modelgate key (prefix, length, alphabet).
bool IsWellFormedApiKey(std::string_view key);

// Hex BLAKE2b-256 of the key.
std::string HashApiKey(std::string_view key);

// Constant-time equality of two equally long strings (false when lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// A random public identifier for a key ("key_" + 16 hex digits).
std::string GenerateKeyId();

}  // namespace mg::store
