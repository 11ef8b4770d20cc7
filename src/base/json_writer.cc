#include "base/json_writer.h"

#include <charconv>
#include <cmath>

namespace mg {
namespace {

// Length of the well-formed UTF-8 sequence at data[0..size), or 0.
size_t Utf8SequenceLength(const unsigned char* data, size_t size) {
  const unsigned char b0 = data[0];
  auto cont = [&](size_t i) { return i < size && (data[i] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (b0 == 0xE0 && data[1] < 0xA0) return 0;   // overlong
    if (b0 == 0xED && data[1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 == 0xF0 && data[1] < 0x90) return 0;
    if (b0 == 0xF4 && data[1] >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view value) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  const auto* data = reinterpret_cast<const unsigned char*>(value.data());
  size_t pos = 0;
  while (pos < value.size()) {
    const unsigned char c = data[pos];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out->push_back(static_cast<char>(c));
      ++pos;
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        ++pos;
        continue;
      case '\\':
        out->append("\\\\");
        ++pos;
        continue;
      case '\n':
        out->append("\\n");
        ++pos;
        continue;
      case '\r':
        out->append("\\r");
        ++pos;
        continue;
      case '\t':
        out->append("\\t");
        ++pos;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
      ++pos;
      continue;
    }
    size_t length = Utf8SequenceLength(data + pos, value.size() - pos);
    if (length == 0) {
      out->append("\\ufffd");
      ++pos;
      continue;
    }
    out->append(value.data() + pos, length);
    pos += length;
  }
  out->push_back('"');
}

void AppendJsonInt(std::string* out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr);
}

void AppendJsonFloat(std::string* out, float value) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr);
}

}  // namespace mg
