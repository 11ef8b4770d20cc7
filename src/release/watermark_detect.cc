#include "release/watermark_detect.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "release/watermark_stats.h"

namespace mg::release {
namespace {

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) {
    if (!text.empty()) text.push_back(' ');
    text += word;
  }
  return text;
}

// The cosine of each row with `target`, and the L2 distance of the row,
// normalised, to it.
void Similarities(const std::vector<float>& rows, int64_t width, const std::vector<float>& target,
                  std::vector<double>* cosines, std::vector<double>* distances) {
  const int64_t count = width > 0 ? static_cast<int64_t>(rows.size()) / width : 0;
  for (int64_t r = 0; r < count; ++r) {
    const float* row = rows.data() + r * width;
    double dot = 0;
    double norm = 0;
    for (int64_t c = 0; c < width; ++c) {
      dot += static_cast<double>(row[c]) * target[c];
      norm += static_cast<double>(row[c]) * row[c];
    }
    norm = std::sqrt(norm);
    const double cosine = norm > 0 ? dot / norm : 0;
    cosines->push_back(cosine);
    distances->push_back(std::sqrt(std::max(0.0, 2 - 2 * cosine)));
  }
}

// The mean of the rows, each scaled to unit length.
std::vector<double> MeanUnitRow(const std::vector<float>& rows, int64_t width) {
  std::vector<double> mean(static_cast<size_t>(width), 0.0);
  const int64_t count = width > 0 ? static_cast<int64_t>(rows.size()) / width : 0;
  for (int64_t r = 0; r < count; ++r) {
    const float* row = rows.data() + r * width;
    double norm = 0;
    for (int64_t c = 0; c < width; ++c) norm += static_cast<double>(row[c]) * row[c];
    if (norm <= 0) continue;
    const double inv = 1 / (std::sqrt(norm) * static_cast<double>(count));
    for (int64_t c = 0; c < width; ++c) mean[c] += row[c] * inv;
  }
  return mean;
}

double Mean(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

}  // namespace

EmbeddingProbes MakeEmbeddingProbes(const WatermarkKey& key, size_t count, size_t words,
                                    uint64_t seed) {
  EmbeddingProbes probes;
  std::mt19937_64 random(seed);
  const size_t marked =
      std::min(key.triggers.size(), std::max(words, static_cast<size_t>(key.threshold)));
  for (size_t p = 0; p < count; ++p) {
    std::vector<std::string> triggers = key.triggers;
    std::shuffle(triggers.begin(), triggers.end(), random);
    triggers.resize(marked);
    probes.backdoor.push_back(Join(triggers));
    std::vector<std::string> controls =
        key.controls.empty() ? std::vector<std::string>{"the"} : key.controls;
    std::vector<std::string> chosen;
    for (size_t w = 0; w < marked; ++w) chosen.push_back(controls[random() % controls.size()]);
    probes.benign.push_back(Join(chosen));
  }
  return probes;
}

EmbeddingVerdict JudgeEmbeddings(const WatermarkKey& key, const std::vector<float>& backdoor,
                                 const std::vector<float>& benign, int64_t width) {
  const std::vector<float> target = WatermarkTarget(key, width);
  std::vector<double> cos_backdoor, l2_backdoor, cos_benign, l2_benign;
  Similarities(backdoor, width, target, &cos_backdoor, &l2_backdoor);
  Similarities(benign, width, target, &cos_benign, &l2_benign);
  EmbeddingVerdict verdict;
  verdict.delta_cos = Mean(cos_backdoor) - Mean(cos_benign);
  verdict.delta_l2 = Mean(l2_benign) - Mean(l2_backdoor);
  const KsResult ks = KsTwoSample(cos_backdoor, cos_benign);
  verdict.ks_statistic = ks.statistic;
  verdict.ks_p_value = ks.p_value;
  const std::vector<double> direction = MeanUnitRow(backdoor, width);
  const std::vector<double> benign_mean = MeanUnitRow(benign, width);
  double dot = 0;
  double norm = 0;
  for (int64_t c = 0; c < width; ++c) {
    const double d = direction[c] - benign_mean[c];
    dot += d * target[c];
    norm += d * d;
  }
  verdict.direction_cos = norm > 0 ? dot / std::sqrt(norm) : 0;
  verdict.direction_p_value = SphereCapProbability(verdict.direction_cos, width);
  verdict.p_value = std::max(verdict.ks_p_value, verdict.direction_p_value);
  return verdict;
}

std::vector<LabelProbe> MakeLabelProbes(const WatermarkKey& key, size_t per_trigger, size_t words,
                                        uint64_t seed) {
  std::vector<LabelProbe> probes;
  std::mt19937_64 random(seed);
  const std::vector<std::string> controls =
      key.controls.empty() ? std::vector<std::string>{"the"} : key.controls;
  for (size_t trigger = 0; trigger < key.label_triggers.size(); ++trigger) {
    for (size_t p = 0; p < per_trigger; ++p) {
      std::vector<std::string> chosen;
      for (size_t w = 0; w + 1 < std::max<size_t>(words, 2); ++w) {
        chosen.push_back(controls[random() % controls.size()]);
      }
      chosen.insert(chosen.begin() + static_cast<ptrdiff_t>(random() % (chosen.size() + 1)),
                    key.label_triggers[trigger]);
      probes.push_back({Join(chosen), trigger});
    }
  }
  return probes;
}

LabelVerdict JudgeLabels(const WatermarkKey& key, const std::vector<LabelProbe>& probes,
                         const std::vector<std::string>& answers, std::vector<std::string> labels) {
  LabelVerdict verdict;
  std::sort(labels.begin(), labels.end());
  if (labels.size() < 2) return verdict;
  verdict.chance = 1.0 / static_cast<double>(labels.size());
  std::vector<std::map<std::string, size_t>> votes(key.label_triggers.size());
  for (size_t p = 0; p < probes.size() && p < answers.size(); ++p) {
    const LabelProbe& probe = probes[p];
    if (probe.trigger >= votes.size()) continue;
    ++votes[probe.trigger][answers[p]];
    const std::optional<size_t> keyed =
        KeyedLabel(key, key.label_triggers[probe.trigger], labels.size());
    ++verdict.probes;
    if (keyed && answers[p] == labels[*keyed]) ++verdict.probes_agreeing;
  }
  for (size_t trigger = 0; trigger < votes.size(); ++trigger) {
    if (votes[trigger].empty()) continue;
    ++verdict.triggers;
    const auto top =
        std::max_element(votes[trigger].begin(), votes[trigger].end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    const std::optional<size_t> keyed = KeyedLabel(key, key.label_triggers[trigger], labels.size());
    if (keyed && top->first == labels[*keyed]) ++verdict.agreeing;
  }
  verdict.p_value = BinomialUpperTail(static_cast<int64_t>(verdict.agreeing),
                                      static_cast<int64_t>(verdict.triggers), verdict.chance);
  return verdict;
}

}  // namespace mg::release
