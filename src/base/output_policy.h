// OutputPolicy: how much of a model's output one caller may see, so that a
// closed API need not hand full-precision scores and embeddings to anyone
// who could train a copy of the model from them. A key carries one (the
// control plane's api_keys.output_policy), a licence may carry one (an
// "output:..." feature), the server may tighten a key's at run time; the
// reply is cut to the stricter of them all (Stricter).
//
// Two independent halves:
//   scores      every label with its score (full), scores rounded to N
//               decimals, only the best K labels, or labels without scores
//               ("label" is the best label alone, without its score);
//   embeddings  full, rounded to N decimals, cut to the first D values
//               (renormalised when the reply is normalised), or refused.
//
// Compact form: comma-separated directives, in any order:
//   full                 nothing withheld (alone)
//   scores:N             scores rounded to N decimals (0-6)
//   topk:K               only the best K labels (K >= 1)
//   no-scores            labels without their scores
//   label                topk:1,no-scores
//   embed-decimals:N     embedding values rounded to N decimals (0-6)
//   embed-dims:D         embeddings cut to their first D values (D >= 1)
//   no-embed             embeddings refused
// ToString prints the canonical form (docs/serving.md, "Output policies").
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg {

inline constexpr int kMaxOutputDecimals = 6;

struct OutputPolicy {
  // Scores (classification, reranking, similarity, recommendation).
  int score_decimals = -1;  // -1: full precision; else 0..kMaxOutputDecimals
  int64_t top_k = 0;        // 0: every label; else the best this many
  bool scores = true;       // false: labels (or ranks) without scores
  // Embeddings (sentence and token vectors).
  int embed_decimals = -1;  // -1: full precision; else 0..kMaxOutputDecimals
  int64_t embed_dims = 0;   // 0: every value; else the first this many
  bool embeddings = true;   // false: embedding replies are refused

  bool full() const { return *this == OutputPolicy{}; }
  // Whether the score half withholds anything.
  bool restricts_scores() const { return score_decimals >= 0 || top_k > 0 || !scores; }
  bool restricts_embeddings() const { return embed_decimals >= 0 || embed_dims > 0 || !embeddings; }
  bool operator==(const OutputPolicy&) const = default;
};

// Parses the compact form; an error naming the bad directive otherwise.
// Empty text is "full".
Result<OutputPolicy> ParseOutputPolicy(std::string_view text);

// The canonical compact form: "full", or the directives in a fixed order
// (label | topk:K[,no-scores] | no-scores; scores:N; no-embed |
// embed-dims:D, embed-decimals:N). ParseOutputPolicy(ToString(p)) == p for
// every normalised p (see Normalized).
std::string ToString(const OutputPolicy& policy);

// The same policy with settings that withhold nothing more dropped (score
// decimals when no scores are shown, embedding settings when embeddings are
// refused), so that equal behaviour prints equal.
OutputPolicy Normalized(const OutputPolicy& policy);

// Per field, the one that shows less: fewer decimals, fewer labels, fewer
// dimensions; no scores beats scores, refused beats any embedding. So
// "label" beats "topk:K" beats "scores:N" beats "full". Normalised.
OutputPolicy Stricter(const OutputPolicy& a, const OutputPolicy& b);

// `value` rounded half away from zero to `decimals` decimals (unchanged
// when decimals < 0 or it is not finite).
float RoundToDecimals(float value, int decimals);

}  // namespace mg
