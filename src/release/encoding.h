// Byte encodings and hashes shared by the release formats: standard base64
// (RFC 4648, with padding, canonical only), lower-case hex, SHA-256 and the
// key id. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg::release {

std::string Base64Encode(std::string_view bytes);
// Refuses anything but canonical padded base64 (no whitespace, no stray bits),
// so one value has exactly one encoding.
Result<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view bytes);

// SHA-256 of `bytes`, as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view bytes);

// Streams the file at `path` through SHA-256; sets `*size` to its length.
Result<std::string> Sha256FileHex(const std::string& path, uint64_t* size);

// Key id: the first 8 bytes of BLAKE2b-256(public key), as 16 hex digits.
std::string KeyIdOf(std::string_view public_key);

// The library must be initialised once before any other call here; this is
// idempotent, thread-safe and aborts only if libsodium cannot start.
void InitSodium();

}  // namespace mg::release
