// PrecompiledCharsmap: SentencePiece's "precompiled_charsmap" normalizer, as
// Hugging Face's Precompiled normalizer applies it.
//
// The charsmap is a little-endian uint32 trie size, a Darts double-array
// trie of that many bytes (keys: UTF-8 input strings; values: offsets into
// the blob that follows) and a blob of NUL-terminated UTF-8 replacements.
//
// Normalize() walks the text by extended grapheme cluster. A cluster shorter
// than 6 bytes is looked up whole; otherwise (or when the cluster has no
// entry) each character is looked up alone. A lookup takes the *shortest*
// key that is a prefix of the chunk and replaces the whole chunk with it,
// as Hugging Face does. Alignment follows Hugging Face's NormalizedString:
// each replacement character takes the original range of the input
// character at its position; characters beyond the input's count take the
// range of the chunk's last character; a chunk that vanishes shortens the
// character written before it (see ApplyCharChanges).
//
// Immutable after construction; Normalize() is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/normalized_text.h"

namespace mg::text {

// One character of a transformation, as Hugging Face's
// NormalizedString::transform takes it: `change` 0 replaces the next input
// character, 1 inserts a character, -n replaces the next input character and
// removes the n after it.
struct CharChange {
  char32_t cp;
  int32_t change;
};

// Applies `changes` to `in` (whose bytes all come from one segment that
// starts at original byte `segment_begin`), writing `out`. Input characters
// no change consumes are dropped, as Hugging Face drops them.
void ApplyCharChanges(const NormalizedText& in, const std::vector<CharChange>& changes,
                      uint32_t segment_begin, NormalizedText* out);

class PrecompiledCharsmap {
 public:
  // Decodes and checks a charsmap: every trie node reachable from the root
  // must lie inside the array and every value must start a replacement
  // inside the blob. Fails with Corruption otherwise.
  static Result<PrecompiledCharsmap> FromBase64(std::string_view base64);
  static Result<PrecompiledCharsmap> FromBytes(std::string_view bytes);

  // Normalizes `in` (valid UTF-8) into `out`; see the header comment.
  void Normalize(const NormalizedText& in, uint32_t segment_begin, NormalizedText* out) const;

  // The replacement for the shortest key that is a prefix of `chunk`, or
  // false when no key is.
  bool Transform(std::string_view chunk, std::string_view* replacement) const;

 private:
  std::vector<uint32_t> units_;
  std::string normalized_;
  // Transform() of each single ASCII byte: offset into normalized_, or -1.
  int32_t ascii_[128];
};

}  // namespace mg::text
