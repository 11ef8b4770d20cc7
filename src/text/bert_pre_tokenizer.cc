#include "text/bert_pre_tokenizer.h"

#include <array>

#include "text/unicode.h"

namespace mg::text {
namespace {

enum class ByteClass : uint8_t { kWord, kSpace, kPunct, kNonAscii };

constexpr std::array<ByteClass, 256> MakeByteClasses() {
  std::array<ByteClass, 256> classes{};
  for (int b = 0; b < 256; ++b) {
    ByteClass c = ByteClass::kWord;
    if (b >= 0x80) {
      c = ByteClass::kNonAscii;
    } else if (b == ' ' || (b >= 0x09 && b <= 0x0D)) {
      c = ByteClass::kSpace;
    } else if ((b >= 33 && b <= 47) || (b >= 58 && b <= 64) || (b >= 91 && b <= 96) ||
               (b >= 123 && b <= 126)) {
      c = ByteClass::kPunct;
    }
    classes[b] = c;
  }
  return classes;
}

constexpr std::array<ByteClass, 256> kByteClasses = MakeByteClasses();

}  // namespace

void BertPreTokenize(std::string_view normalized, size_t begin, size_t end,
                     std::vector<WordSpan>* words) {
  const auto* data = reinterpret_cast<const uint8_t*>(normalized.data());
  size_t word_begin = begin;
  size_t pos = begin;
  auto flush = [&](size_t word_end) {
    if (word_end > word_begin) {
      words->push_back({static_cast<uint32_t>(word_begin), static_cast<uint32_t>(word_end)});
    }
  };
  while (pos < end) {
    ByteClass c = kByteClasses[data[pos]];
    if (c == ByteClass::kWord) {
      ++pos;
      continue;
    }
    size_t length = 1;
    if (c == ByteClass::kNonAscii) {
      char32_t cp = DecodeUtf8(data + pos, end - pos, &length);
      const uint8_t flags = CharFlags(cp);
      if (flags & kWhitespace) {
        c = ByteClass::kSpace;
      } else if (flags & kPunctuation) {
        c = ByteClass::kPunct;
      } else {
        pos += length;
        continue;
      }
    }
    flush(pos);
    if (c == ByteClass::kPunct) {
      words->push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + length)});
    }
    pos += length;
    word_begin = pos;
  }
  flush(end);
}

void WhitespacePreTokenize(std::string_view normalized, size_t begin, size_t end,
                           std::vector<WordSpan>* words) {
  enum class Kind { kSpace, kWord, kOther };
  const auto* data = reinterpret_cast<const uint8_t*>(normalized.data());
  Kind run = Kind::kSpace;
  size_t run_begin = begin;
  size_t pos = begin;
  while (pos <= end) {
    Kind kind = Kind::kSpace;
    size_t length = 1;
    if (pos < end) {
      char32_t cp = DecodeUtf8(data + pos, end - pos, &length);
      const uint8_t flags = cp == kInvalidCodePoint ? 0 : CharFlags(cp);
      kind = (flags & kWhitespace) ? Kind::kSpace
             : (flags & kWordChar) ? Kind::kWord
                                   : Kind::kOther;
    }
    if (kind != run || pos == end) {
      if (run != Kind::kSpace && pos > run_begin) {
        words->push_back({static_cast<uint32_t>(run_begin), static_cast<uint32_t>(pos)});
      }
      run = kind;
      run_begin = pos;
    }
    if (pos == end) break;
    pos += length;
  }
}

}  // namespace mg::text
