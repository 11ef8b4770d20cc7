#include "base/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "base/utf8.h"

namespace mg {
namespace {

// Bytes copied as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> kPlainBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// Escapes `value` (without the quotes) into `sink`, which takes
// append(const char*, size_t): runs of bytes that need no escape go in one
// call, each escape in another.
template <typename Sink>
void EscapeJson(std::string_view value, Sink& sink) {
  static const char kHex[] = "0123456789abcdef";
  const auto* data = reinterpret_cast<const unsigned char*>(value.data());
  const size_t size = value.size();
  size_t pos = 0;
  while (pos < size) {
    size_t run = pos;
    while (run < size && kPlainBytes[data[run]]) ++run;
    if (run > pos) {
      sink.append(value.data() + pos, run - pos);
      pos = run;
      if (pos == size) break;
    }
    const unsigned char c = data[pos];
    switch (c) {
      case '"':
        sink.append("\\\"", 2);
        ++pos;
        continue;
      case '\\':
        sink.append("\\\\", 2);
        ++pos;
        continue;
      case '\n':
        sink.append("\\n", 2);
        ++pos;
        continue;
      case '\r':
        sink.append("\\r", 2);
        ++pos;
        continue;
      case '\t':
        sink.append("\\t", 2);
        ++pos;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      sink.append(escape, 6);
      ++pos;
      continue;
    }
    const size_t length = Utf8SequenceLength(data + pos, size - pos);
    if (length == 0) {
      sink.append("\\ufffd", 6);
      ++pos;
      continue;
    }
    sink.append(value.data() + pos, length);
    pos += length;
  }
}

struct StringSink {
  std::string* out;
  void append(const char* data, size_t size) { out->append(data, size); }
};

struct PointerSink {
  char* out;
  void append(const char* data, size_t size) {
    std::memcpy(out, data, size);
    out += size;
  }
};

}  // namespace

void AppendJsonString(std::string* out, std::string_view value) {
  out->push_back('"');
  StringSink sink{out};
  EscapeJson(value, sink);
  out->push_back('"');
}

char* WriteJsonString(char* out, std::string_view value) {
  *out++ = '"';
  PointerSink sink{out};
  EscapeJson(value, sink);
  *sink.out = '"';
  return sink.out + 1;
}

void AppendJsonInt(std::string* out, int64_t value) {
  char buffer[kMaxJsonIntBytes];
  out->append(buffer, WriteJsonInt(buffer, value));
}

char* WriteJsonInt(char* out, int64_t value) {
  return std::to_chars(out, out + kMaxJsonIntBytes, value).ptr;
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
