#include "privacy/normalizer.h"

#include <cstring>

#include "text/unicode.h"

namespace mg::privacy {
namespace {

bool AllAscii(std::string_view input) {
  unsigned char any = 0;
  for (char c : input) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

}  // namespace

int NormalizeCodePoint(char32_t cp) {
  if (cp < 0x80) return -1;
  switch (cp) {
    case 0x00AD:  // soft hyphen
    case 0x180E:  // Mongolian vowel separator
    case 0xFEFF:  // zero-width no-break space (BOM)
      return 0;
    case 0x00A0:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return ' ';
    case 0x2212:  // minus sign
    case 0xFE58:  // small em dash
    case 0xFE63:  // small hyphen-minus
      return '-';
    default:
      break;
  }
  if (cp >= 0x200B && cp <= 0x200F) return 0;  // zero-width space..right-to-left mark
  if (cp >= 0x2060 && cp <= 0x2064) return 0;  // word joiner, invisible operators
  if (cp >= 0x202A && cp <= 0x202E) return 0;  // bidirectional embeddings
  if (cp >= 0x2000 && cp <= 0x200A) return ' ';
  if (cp >= 0x2010 && cp <= 0x2015) return '-';
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<int>(cp - 0xFF01 + 0x21);
  return -1;
}

std::string NormalizeValue(std::string_view value) {
  NormalizedText normalized;
  normalized.Normalize(value);
  return std::string(normalized.text());
}

size_t NormalizedText::FirstChange(std::string_view input) {
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = 0;
  while (pos < input.size()) {
    if (data[pos] < 0x80) {
      ++pos;
      continue;
    }
    size_t length = 1;
    const char32_t cp = text::DecodeUtf8(data + pos, input.size() - pos, &length);
    if (cp == text::kInvalidCodePoint || NormalizeCodePoint(cp) >= 0) return pos;
    pos += length;
  }
  return pos;
}

void NormalizedText::Reserve(size_t size) {
  if (buffer_.size() < size) buffer_.resize(size);
  if (begin_.size() < size) begin_.resize(size);
  if (end_.size() < size) end_.resize(size);
}

void NormalizedText::Normalize(std::string_view input) {
  const size_t first = AllAscii(input) ? input.size() : FirstChange(input);
  if (first == input.size()) {
    identity_ = true;
    text_ = input;
    return;
  }
  identity_ = false;
  Reserve(input.size());  // normalising never lengthens the text
  char* out = buffer_.data();
  uint32_t* begin = begin_.data();
  uint32_t* end = end_.data();
  size_t size = 0;
  auto copy = [&](size_t from, size_t count) {
    std::memcpy(out + size, input.data() + from, count);
    for (size_t offset = 0; offset < count; ++offset) {
      begin[size + offset] = static_cast<uint32_t>(from + offset);
      end[size + offset] = static_cast<uint32_t>(from + offset + 1);
    }
    size += count;
  };
  copy(0, first);
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = first;
  while (pos < input.size()) {
    size_t run = pos;
    while (run < input.size() && data[run] < 0x80) ++run;
    if (run > pos) {
      copy(pos, run - pos);
      pos = run;
      continue;
    }
    size_t length = 1;
    const char32_t cp = text::DecodeUtf8(data + pos, input.size() - pos, &length);
    const int mapped = cp == text::kInvalidCodePoint ? '\x01' : NormalizeCodePoint(cp);
    if (mapped < 0) {
      copy(pos, length);
    } else if (mapped > 0) {
      out[size] = static_cast<char>(mapped);
      begin[size] = static_cast<uint32_t>(pos);
      end[size] = static_cast<uint32_t>(pos + length);
      ++size;
    }
    pos += length;
  }
  text_ = std::string_view(out, size);
}

}  // namespace mg::privacy
