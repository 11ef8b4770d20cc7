// Hashes the release formats add to base/bytes.h (hex, base64, SHA-256,
// which they use as they are): a file's SHA-256 and the key id. Pure
// functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace mg::release {

// Streams the file at `path` through SHA-256; sets `*size` to its length.
Result<std::string> Sha256FileHex(const std::string& path, uint64_t* size);

// Key id: the first 8 bytes of BLAKE2b-256(public key), as 16 hex digits.
std::string KeyIdOf(std::string_view public_key);

}  // namespace mg::release
