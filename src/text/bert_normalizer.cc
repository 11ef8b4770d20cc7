#include "text/bert_normalizer.h"

#include "text/unicode.h"

namespace mg::text {
namespace {

constexpr uint8_t kDrop = 0;
constexpr uint8_t kSpace = 1;
constexpr uint8_t kEmit = 2;

inline void Append(NormalizedText* out, char32_t cp, uint32_t orig_begin, uint32_t orig_end) {
  uint8_t bytes[4];
  size_t n = EncodeUtf8(cp, bytes);
  out->text.append(reinterpret_cast<const char*>(bytes), n);
  for (size_t i = 0; i < n; ++i) {
    out->orig_begin.push_back(orig_begin);
    out->orig_end.push_back(orig_end);
  }
}

}  // namespace

BertNormalizer::BertNormalizer(const BertNormalizerOptions& options) : options_(options) {
  for (int b = 0; b < 128; ++b) {
    const uint8_t flags = CharFlags(static_cast<char32_t>(b));
    uint8_t action = kEmit;
    if (options_.clean_text) {
      if (flags & kControl) {
        action = kDrop;
      } else if (flags & kWhitespace) {
        action = kSpace;
      }
    }
    ascii_action_[b] = action;
    uint8_t mapped = static_cast<uint8_t>(b);
    if (options_.lowercase && b >= 'A' && b <= 'Z') mapped = static_cast<uint8_t>(b + 32);
    ascii_map_[b] = mapped;
  }
}

void BertNormalizer::Normalize(std::string_view input, size_t begin, size_t end,
                               NormalizedText* out) const {
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = begin;
  while (pos < end) {
    const uint8_t byte = data[pos];
    if (byte < 0x80) {
      switch (ascii_action_[byte]) {
        case kDrop:
          break;
        case kSpace:
          out->text.push_back(' ');
          out->orig_begin.push_back(static_cast<uint32_t>(pos));
          out->orig_end.push_back(static_cast<uint32_t>(pos + 1));
          break;
        default:
          out->text.push_back(static_cast<char>(ascii_map_[byte]));
          out->orig_begin.push_back(static_cast<uint32_t>(pos));
          out->orig_end.push_back(static_cast<uint32_t>(pos + 1));
          break;
      }
      ++pos;
      continue;
    }
    size_t length = 0;
    char32_t cp = DecodeUtf8(data + pos, end - pos, &length);
    if (cp == kInvalidCodePoint) {
      // An invalid byte reads as U+FFFD, which text cleaning removes; without
      // cleaning it stays as U+FFFD.
      if (!options_.clean_text) {
        Append(out, kReplacementChar, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + 1));
      }
      pos += 1;
      continue;
    }
    NormalizeChar(cp, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + length), out);
    pos += length;
  }
}

void BertNormalizer::NormalizeChar(char32_t cp, uint32_t orig_begin, uint32_t orig_end,
                                   NormalizedText* out) const {
  const uint8_t flags = CharFlags(cp);
  if (options_.clean_text) {
    if (flags & kControl) return;
    if (flags & kWhitespace) {
      Append(out, ' ', orig_begin, orig_end);
      return;
    }
  }
  const bool chinese = options_.handle_chinese_chars && (flags & kChinese);
  if (chinese) Append(out, ' ', orig_begin, orig_end);

  char32_t decomposed[8];
  size_t count = 1;
  decomposed[0] = cp;
  if (options_.strip_accents && (flags & (kHasDecomposition | kNonspacingMark))) {
    count = Decompose(cp, decomposed);
  }
  for (size_t i = 0; i < count; ++i) {
    const char32_t c = decomposed[i];
    const uint8_t c_flags = (c == cp) ? flags : CharFlags(c);
    if (options_.strip_accents && (c_flags & kNonspacingMark)) continue;
    if (options_.lowercase && (c_flags & kHasLowercase)) {
      char32_t lower[3];
      size_t n = ToLower(c, lower);
      for (size_t k = 0; k < n; ++k) Append(out, lower[k], orig_begin, orig_end);
    } else {
      Append(out, c, orig_begin, orig_end);
    }
  }

  if (chinese) Append(out, ' ', orig_begin, orig_end);
}

}  // namespace mg::text
