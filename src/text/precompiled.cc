#include "text/precompiled.h"

#include <utf8proc.h>

#include <cstring>

#include "base/bytes.h"
#include "base/utf8.h"
#include "text/unicode.h"

namespace mg::text {

namespace {

// Darts double-array units.
inline bool HasLeaf(uint32_t unit) { return ((unit >> 8) & 1) == 1; }
inline uint32_t Value(uint32_t unit) { return unit & ((1u << 31) - 1); }
inline uint32_t Label(uint32_t unit) { return unit & ((1u << 31) | 0xFFu); }
inline size_t UnitOffset(uint32_t unit) {
  return static_cast<size_t>((unit >> 10) << ((unit & (1u << 9)) >> 6));
}

}  // namespace

void ApplyCharChanges(const NormalizedText& in, const std::vector<CharChange>& changes,
                      uint32_t segment_begin, NormalizedText* out) {
  out->Clear();
  const size_t size = in.size();
  const auto* data = reinterpret_cast<const uint8_t*>(in.text.data());
  size_t offset = 0;
  auto consume = [&]() {
    if (offset < size) offset += Utf8LeadLength(data[offset]);
  };
  uint8_t buffer[4];
  for (const CharChange& ch : changes) {
    const size_t idx = offset;
    uint32_t begin = segment_begin;
    uint32_t end = segment_begin;
    if (ch.change > 0) {
      // An inserted character shares the alignment of the byte before it.
      if (idx >= 1 && idx - 1 < size) {
        begin = in.orig_begin[idx - 1];
        end = in.orig_end[idx - 1];
      }
    } else if (idx < size) {
      begin = in.orig_begin[idx];
      end = in.orig_end[idx];
    } else if (size > 0) {
      begin = in.orig_begin[size - 1];
      end = in.orig_end[size - 1];
    }
    if (ch.change <= 0) consume();
    for (int32_t i = 0; i < -ch.change; ++i) consume();
    const size_t n = EncodeUtf8(ch.cp, buffer);
    out->text.append(reinterpret_cast<const char*>(buffer), n);
    out->orig_begin.insert(out->orig_begin.end(), n, begin);
    out->orig_end.insert(out->orig_end.end(), n, end);
  }
}

Result<PrecompiledCharsmap> PrecompiledCharsmap::FromBase64(std::string_view base64) {
  Result<std::string> bytes = Base64Decode(base64);
  if (!bytes.ok()) return CorruptionError("precompiled_charsmap is not valid base64");
  return FromBytes(*bytes);
}

Result<PrecompiledCharsmap> PrecompiledCharsmap::FromBytes(std::string_view bytes) {
  PrecompiledCharsmap map;
  if (bytes.size() < 4) return CorruptionError("precompiled_charsmap is shorter than its header");
  uint32_t trie_size = 0;
  for (int i = 3; i >= 0; --i) trie_size = (trie_size << 8) | static_cast<uint8_t>(bytes[i]);
  if (trie_size % 4 != 0 || trie_size > bytes.size() - 4) {
    return CorruptionError("precompiled_charsmap: trie of " + std::to_string(trie_size) +
                           " bytes does not fit the " + std::to_string(bytes.size() - 4) +
                           " bytes after the header (truncated?)");
  }
  if (trie_size == 0) return CorruptionError("precompiled_charsmap: empty trie");
  map.units_.resize(trie_size / 4);
  for (size_t i = 0; i < map.units_.size(); ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data()) + 4 + 4 * i;
    map.units_[i] = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                    (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }
  map.normalized_.assign(bytes.substr(4 + trie_size));
  if (!IsValidUtf8(reinterpret_cast<const uint8_t*>(map.normalized_.data()),
                   map.normalized_.size())) {
    return CorruptionError("precompiled_charsmap: replacements are not valid UTF-8");
  }

  // Walk every unit reachable from the root (the trie is a DAG: Darts shares
  // equal subtrees): each leaf's value must start a replacement.
  const size_t units = map.units_.size();
  std::vector<size_t> stack = {UnitOffset(map.units_[0])};
  std::vector<bool> visited(units, false);
  while (!stack.empty()) {
    const size_t node = stack.back();
    stack.pop_back();
    for (uint32_t c = 1; c < 256; ++c) {
      const size_t child = node ^ c;
      if (child >= units || Label(map.units_[child]) != c || visited[child]) continue;
      visited[child] = true;
      const size_t next = child ^ UnitOffset(map.units_[child]);
      if (HasLeaf(map.units_[child])) {
        if (next >= units)
          return CorruptionError("precompiled_charsmap: a leaf lies outside the trie");
        const uint32_t value = Value(map.units_[next]);
        if (value > map.normalized_.size() ||
            (value < map.normalized_.size() &&
             (static_cast<uint8_t>(map.normalized_[value]) & 0xC0) == 0x80)) {
          return CorruptionError("precompiled_charsmap: a replacement offset is out of range");
        }
      }
      stack.push_back(next);
    }
  }
  for (int c = 0; c < 128; ++c) {
    map.ascii_[c] = -1;
    const char ch = static_cast<char>(c);
    std::string_view replacement;
    if (c != 0 && map.Transform(std::string_view(&ch, 1), &replacement)) {
      map.ascii_[c] = static_cast<int32_t>(replacement.data() - map.normalized_.data());
    }
  }
  return map;
}

bool PrecompiledCharsmap::Transform(std::string_view chunk, std::string_view* replacement) const {
  const size_t units = units_.size();
  size_t node = UnitOffset(units_[0]);
  for (char ch : chunk) {
    const auto c = static_cast<uint8_t>(ch);
    if (c == 0) return false;
    node ^= c;
    if (node >= units) return false;
    const uint32_t unit = units_[node];
    if (Label(unit) != c) return false;
    node ^= UnitOffset(unit);
    if (HasLeaf(unit)) {
      if (node >= units) return false;
      const size_t begin = Value(units_[node]);
      size_t end = begin;
      while (end < normalized_.size() && normalized_[end] != '\0') ++end;
      *replacement = std::string_view(normalized_).substr(begin, end - begin);
      return true;
    }
  }
  return false;
}

void PrecompiledCharsmap::Normalize(const NormalizedText& in, uint32_t segment_begin,
                                    NormalizedText* out) const {
  thread_local std::vector<CharChange> changes;
  changes.clear();
  bool modified = false;
  const auto* data = reinterpret_cast<const uint8_t*>(in.text.data());
  const size_t size = in.size();

  auto replace = [&](size_t old_count, std::string_view replacement) {
    modified = true;
    const size_t first_new = changes.size();
    const auto* r = reinterpret_cast<const uint8_t*>(replacement.data());
    for (size_t pos = 0; pos < replacement.size();) {
      size_t length = 0;
      char32_t cp = DecodeUtf8(r + pos, replacement.size() - pos, &length);
      if (cp == kInvalidCodePoint) cp = kReplacementChar;
      changes.push_back({cp, 0});
      pos += length;
    }
    const auto new_count = static_cast<int64_t>(changes.size() - first_new);
    const int64_t diff = new_count - static_cast<int64_t>(old_count);
    if (diff > 0) {
      for (int64_t i = 0; i < diff; ++i) changes[changes.size() - 1 - i].change = 1;
    } else if (diff < 0 && !changes.empty()) {
      changes.back().change += static_cast<int32_t>(diff);
    }
  };

  utf8proc_int32_t state = 0;
  size_t pos = 0;
  while (pos < size) {
    // Fast path: an ASCII character followed by ASCII (or the end) is a
    // grapheme of its own, except CR before LF.
    const uint8_t byte = data[pos];
    if (byte < 0x80 &&
        (pos + 1 == size || (data[pos + 1] < 0x80 && !(byte == '\r' && data[pos + 1] == '\n')))) {
      state = 0;
      if (ascii_[byte] >= 0) {
        const char* begin = normalized_.data() + ascii_[byte];
        replace(1, std::string_view(begin, std::strlen(begin)));
      } else {
        changes.push_back({byte, 0});
      }
      ++pos;
      continue;
    }
    // One extended grapheme cluster.
    size_t length = 0;
    char32_t previous = DecodeUtf8(data + pos, size - pos, &length);
    size_t end = pos + length;
    size_t chars = 1;
    while (end < size) {
      const char32_t next = DecodeUtf8(data + end, size - end, &length);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(previous),
                                           static_cast<utf8proc_int32_t>(next), &state)) {
        break;
      }
      previous = next;
      end += length;
      ++chars;
    }
    const std::string_view grapheme(in.text.data() + pos, end - pos);
    std::string_view replacement;
    if (grapheme.size() < 6 && Transform(grapheme, &replacement)) {
      replace(chars, replacement);
    } else {
      for (size_t p = pos; p < end; p += length) {
        const char32_t cp = DecodeUtf8(data + p, end - p, &length);
        if (Transform(std::string_view(in.text.data() + p, length), &replacement)) {
          replace(1, replacement);
        } else {
          changes.push_back({cp, 0});
        }
      }
    }
    pos = end;
  }
  if (!modified) {
    *out = in;
    return;
  }
  ApplyCharChanges(in, changes, segment_begin, out);
}

}  // namespace mg::text
