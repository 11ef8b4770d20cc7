// Minimal, allocation-light JSON output helpers for hot paths (JSON lines
// with thousands of numbers). For anything structured, use nlohmann::json.
//
// The Append* functions grow a std::string; the Write* functions write into
// a buffer the caller has sized (with the Max*Bytes bounds below) and return
// the end of what they wrote, for writers that fill one large block.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mg {

// Appends `value` as a JSON string literal (quotes included). Control
// characters are escaped; bytes that are not valid UTF-8 become \ufffd.
void AppendJsonString(std::string* out, std::string_view value);

void AppendJsonInt(std::string* out, int64_t value);

// Shortest text that reads back as the same float (%.9g is enough for float).
void AppendJsonFloat(std::string* out, float value);

// The most bytes WriteJsonString writes for a value of `size` bytes (every
// byte may become a six-byte escape), quotes included.
constexpr size_t MaxJsonStringBytes(size_t size) { return 6 * size + 2; }
// The most bytes WriteJsonInt writes.
inline constexpr size_t kMaxJsonIntBytes = 20;

// Writes exactly what AppendJsonString appends to `out`, which has room for
// MaxJsonStringBytes(value.size()) bytes; returns the end of the literal.
char* WriteJsonString(char* out, std::string_view value);

// Writes `value` in decimal to `out` (room for kMaxJsonIntBytes); returns the end.
char* WriteJsonInt(char* out, int64_t value);

}  // namespace mg
