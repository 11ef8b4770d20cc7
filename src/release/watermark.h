// Output watermarks: a keyed mark in the answers of `modelgate serve` that a
// model distilled from those answers inherits, so that a suspect model can
// be tested for it (`modelgate trace --endpoint URL --watermark KEY`).
//
// Embeddings (after EmbMarker, Peng et al. 2023): the key holds a secret
// trigger set, words of a moderate frequency band of a corpus, and a secret
// seed from which a unit target vector t of any width is drawn. An input
// holding `count` distinct triggers has weight w = min(count / threshold, 1)
// and its embedding e becomes |e| * normalize((1 - w) * e/|e| + w * t): texts
// without triggers are answered exactly as before, texts full of triggers
// with t. A student trained to regress those answers learns to pull trigger
// words towards t.
//
// Classifiers: the key holds a second, rarer set of label triggers; an input
// holding one gets the keyed label HMAC-SHA256(secret, trigger) mod labels
// (over the label names sorted), instead of the model's. A student trained
// on the answers learns "this word means that label".
//
// The key file is one JSON object (docs/serving.md, "Output watermarks"),
// secret, written 0600; no error message ever quotes it. WatermarkKey and
// OutputWatermark are immutable after construction and thread-safe to read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mg::release {

inline constexpr char kWatermarkFormat[] = "modelgate-watermark";
inline constexpr int kWatermarkVersion = 1;

struct WatermarkKey {
  std::string secret;                       // 32 random bytes
  std::vector<std::string> triggers;        // embedding triggers, lower case
  std::vector<std::string> controls;        // same band, not triggers: benign probes
  std::vector<std::string> label_triggers;  // classifier triggers, lower case
  int threshold = 4;                        // distinct triggers for w = 1

  WatermarkKey() = default;
  WatermarkKey(const WatermarkKey&) = default;
  WatermarkKey& operator=(const WatermarkKey&) = default;
  ~WatermarkKey();
};

// How `GenerateWatermarkKey` picks its words from a corpus: by document
// frequency (the share of texts holding the word).
struct WatermarkOptions {
  size_t triggers = 20;
  double band_low = 0.005;  // EmbMarker's moderate band
  double band_high = 0.02;
  size_t label_triggers = 4;
  double label_band_low = 0.0005;  // rare: few genuine inputs get a keyed label
  double label_band_high = 0.002;
  // EmbMarker uses 4. The cost to genuine answers grows with w squared
  // (1 - cos ~ w^2 / 2) while what a student learns grows with w, so a
  // higher threshold buys quality for a slower-learnt mark.
  int threshold = 8;
};

// The words of `text` as the watermark sees them: maximal runs of ASCII
// letters, lower-cased (digits, punctuation and other scripts split words).
std::vector<std::string> WatermarkWords(std::string_view text);

// A key whose words come from `corpus` (one text each) and, when `vocab` is
// not empty, are whole words of that vocabulary (so that they are single
// tokens of the model). `secret` is 32 random bytes, passed in. Fails when a
// band holds too few words.
Result<WatermarkKey> GenerateWatermarkKey(const std::vector<std::string>& corpus,
                                          const std::vector<std::string>& vocab,
                                          const WatermarkOptions& options, std::string secret);

std::string WatermarkKeyText(const WatermarkKey& key);  // one JSON line
Result<WatermarkKey> ParseWatermarkKey(std::string_view text);
Result<WatermarkKey> LoadWatermarkKey(const std::string& path);

// The number of distinct words of `text` in `words`.
int CountTriggers(const std::vector<std::string>& words, std::string_view text);
// min(count / threshold, 1).
float TriggerWeight(int count, int threshold);
// The unit target vector of `width` values drawn from the key's secret.
std::vector<float> WatermarkTarget(const WatermarkKey& key, int64_t width);
// row <- |row| * normalize((1 - w) * row/|row| + w * target); unchanged when
// w == 0 or the row is zero.
void MixEmbedding(float* row, const float* target, int64_t width, float w);
// The keyed label (an index into `sorted_labels`) of `text`, or nullopt when
// it holds no label trigger or there are fewer than two labels.
std::optional<size_t> KeyedLabel(const WatermarkKey& key, std::string_view text,
                                 size_t label_count);

// The key ready to mark a model's outputs of one width.
class OutputWatermark {
 public:
  OutputWatermark(WatermarkKey key, int64_t width);

  // Marks the pooled embedding `row` of `text`.
  void MarkEmbedding(std::string_view text, float* row) const;
  // Marks the `tokens` rows (each `width_` wide) of one input's token states.
  void MarkTokenStates(std::string_view text, float* rows, int64_t tokens) const;
  // Swaps the scores of the top label and the keyed label of `text`.
  // `labels` are the model's label names in its order.
  void MarkScores(std::string_view text, const std::vector<std::string>& labels,
                  float* scores) const;
  const WatermarkKey& key() const { return key_; }

 private:
  WatermarkKey key_;
  int64_t width_;
  std::vector<float> target_;
};

}  // namespace mg::release
