// Testing a suspect model for an output watermark (release/watermark.h):
// the probe texts `modelgate trace --watermark` sends it, and the verdict
// from its answers. The caller queries the suspect (an HTTP endpoint or a
// model folder); everything here is pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "release/watermark.h"

namespace mg::release {

// Texts of `words` words each: the backdoor set holds `threshold` or more
// distinct triggers per text (so the API answers them with the target), the
// benign set only control words of the same frequency band. `seed` makes
// them reproducible.
struct EmbeddingProbes {
  std::vector<std::string> backdoor;
  std::vector<std::string> benign;
};
EmbeddingProbes MakeEmbeddingProbes(const WatermarkKey& key, size_t count, size_t words,
                                    uint64_t seed);

struct EmbeddingVerdict {
  double delta_cos = 0;  // mean cos(backdoor, t) - mean cos(benign, t)
  double delta_l2 = 0;   // mean |benign/|benign| - t| - mean |backdoor/|backdoor| - t|
  double ks_statistic = 0;
  double ks_p_value = 1;  // KS two-sample test of the two sets' cosines to t
  // The direction d = mean(backdoor) - mean(benign) of the unit rows: its
  // cosine with t, and the chance a direction independent of t lines up as
  // well (SphereCapProbability). A model never trained on marked answers
  // can still tell trigger words from control words (the KS test sees that),
  // but not which way t points.
  double direction_cos = 0;
  double direction_p_value = 1;
  double p_value = 1;  // the larger of the two: both tests must reject
};
// `backdoor` and `benign` are the suspect's embeddings of the probes (each
// row `width` wide, any norm).
EmbeddingVerdict JudgeEmbeddings(const WatermarkKey& key, const std::vector<float>& backdoor,
                                 const std::vector<float>& benign, int64_t width);

// Per label trigger, `per_trigger` texts of control words holding it once.
struct LabelProbe {
  std::string text;
  size_t trigger = 0;  // index into key.label_triggers
};
std::vector<LabelProbe> MakeLabelProbes(const WatermarkKey& key, size_t per_trigger, size_t words,
                                        uint64_t seed);

// A trigger agrees when the suspect's most frequent label over its probes is
// its keyed label. Triggers, not probes, are the independent trials (a clean
// model's answers to one trigger's probes are alike), so the p-value is
// P(X >= agreeing) for X ~ Binomial(triggers, 1 / labels).
struct LabelVerdict {
  size_t triggers = 0;
  size_t agreeing = 0;
  size_t probes = 0;
  size_t probes_agreeing = 0;
  double chance = 0;
  double p_value = 1;
};
// `answers[p]` is the label name the suspect gave probe p; `labels` the
// suspect's label names (any order; the keyed label indexes them sorted).
LabelVerdict JudgeLabels(const WatermarkKey& key, const std::vector<LabelProbe>& probes,
                         const std::vector<std::string>& answers, std::vector<std::string> labels);

}  // namespace mg::release
