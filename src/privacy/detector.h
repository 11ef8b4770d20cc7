// Detector: one kind of PII found by patterns. Its Hyperscan expressions only
// find where a candidate may be (a cheap prefilter, all detectors' patterns
// scanned together in one pass, see pattern_scanner.h); Examine() then reads
// the whole token around that place, validates it (check digits, dates,
// boundaries) and scores it. Context words near a candidate raise or lower
// its score afterwards.
//
// Implementations are immutable after construction and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/entity.h"

namespace mg::privacy {

// A Hyperscan expression. Patterns have a fixed length or Examine() reads
// the token around the match itself, so no start-of-match tracking
// (HS_FLAG_SOM_LEFTMOST, which slows scanning) is needed. Detectors that
// return the same expression share one pattern in the database.
struct Pattern {
  std::string regex;
  bool caseless = false;
};

// The shared prefilter of the detectors of long numbers (phones, cards,
// SSNs, IBANs, resident IDs, social credit codes): seven digits, with up to
// two of " .-/()" between each.
inline constexpr std::string_view kNumberPattern = "[0-9](?:[ .\\-/()]{0,2}[0-9]){6}";

// A literal as a Hyperscan expression (bytes other than letters and digits
// escaped as \xHH).
std::string LiteralPattern(std::string_view word);

// A validated candidate in normalised-text coordinates.
struct Candidate {
  EntityType type;
  uint32_t begin;
  uint32_t end;
  float score;  // before context
};

// Words that, near a candidate (see kContextBefore/After), add `boost` to its
// score (positive) or, only when before it, subtract `penalty` (negative).
// ASCII words match case-insensitively as whole words; others match anywhere.
struct ContextWords {
  std::vector<std::string_view> positive;
  std::vector<std::string_view> negative;
  float boost = 0;
  float penalty = 0;
};

// How far from a candidate context words count, in normalised bytes.
inline constexpr uint32_t kContextBefore = 48;
inline constexpr uint32_t kContextAfter = 32;

class Detector {
 public:
  virtual ~Detector() = default;

  virtual EntityType type() const = 0;
  virtual std::vector<Pattern> patterns() const = 0;
  virtual ContextWords context() const = 0;

  // Called for a match of patterns()[pattern] ending at `end` in `text`.
  // Appends zero or more candidates and returns the end of the token it read:
  // later matches of this detector ending at or before it are not examined.
  virtual size_t Examine(std::string_view text, size_t pattern, size_t end,
                         std::vector<Candidate>* out) const = 0;
};

}  // namespace mg::privacy
