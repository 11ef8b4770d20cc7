// Minimal, allocation-light JSON output helpers for hot paths (JSON lines
// with thousands of numbers). For anything structured, use nlohmann::json.
//
// Stateless; thread-safe.
#pragma once

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

}  // namespace mg
