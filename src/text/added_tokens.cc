#include "text/added_tokens.h"

#include <algorithm>
#include <numeric>

#include "text/unicode.h"

namespace mg::text {
namespace {

bool IsSpaceAt(std::string_view text, size_t pos, size_t* length) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  char32_t cp = DecodeUtf8(data + pos, text.size() - pos, length);
  return cp != kInvalidCodePoint && (CharFlags(cp) & kWhitespace);
}

// Length of the whitespace character that ends at `pos`, or 0.
size_t SpaceBefore(std::string_view text, size_t floor, size_t pos) {
  size_t start = pos;
  do {
    if (start == floor) return 0;
    --start;
  } while (start > floor && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80);
  size_t length = 0;
  if (IsSpaceAt(text, start, &length) && start + length == pos) return length;
  return 0;
}

bool IsWordByte(std::string_view text, size_t pos) {
  const auto byte = static_cast<uint8_t>(text[pos]);
  if (byte >= 0x80) {
    size_t length = 0;
    char32_t cp =
        DecodeUtf8(reinterpret_cast<const uint8_t*>(text.data()) + pos, text.size() - pos, &length);
    if (cp == kInvalidCodePoint) return false;
    return !(CharFlags(cp) & (kWhitespace | kPunctuation | kControl));
  }
  return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') ||
         (byte >= 'A' && byte <= 'Z') || byte == '_';
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<std::string> patterns,
                                     std::vector<AddedToken> tokens) {
  std::vector<size_t> order(patterns.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return patterns[a].size() > patterns[b].size(); });
  for (size_t index : order) {
    if (patterns[index].empty()) continue;
    first_byte_[static_cast<uint8_t>(patterns[index][0])] = true;
    patterns_.push_back(std::move(patterns[index]));
    tokens_.push_back(std::move(tokens[index]));
  }
}

void AddedTokenMatcher::FindAll(std::string_view text, size_t begin, size_t end,
                                std::vector<AddedTokenMatch>* matches) const {
  if (patterns_.empty()) return;
  size_t last_end = begin;  // no match may start before the previous one ended
  size_t pos = begin;
  while (pos < end) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    bool matched = false;
    for (size_t index = 0; index < patterns_.size(); ++index) {
      const std::string& pattern = patterns_[index];
      if (pattern.size() > end - pos || text.compare(pos, pattern.size(), pattern) != 0) continue;
      const AddedToken& token = tokens_[index];
      size_t match_begin = pos;
      size_t match_end = pos + pattern.size();
      if (token.single_word) {
        bool word_before = match_begin > begin && IsWordByte(text, match_begin - 1);
        bool word_after = match_end < end && IsWordByte(text, match_end);
        if (word_before || word_after) continue;
      }
      if (token.lstrip) {
        while (size_t length = SpaceBefore(text, last_end, match_begin)) match_begin -= length;
      }
      if (token.rstrip) {
        size_t length = 0;
        while (match_end < end && IsSpaceAt(text, match_end, &length)) match_end += length;
      }
      matches->push_back(
          {token.id, static_cast<uint32_t>(match_begin), static_cast<uint32_t>(match_end)});
      last_end = match_end;
      pos = match_end;
      matched = true;
      break;
    }
    if (!matched) ++pos;
  }
}

}  // namespace mg::text
