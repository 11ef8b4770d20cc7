#include "release/watermark.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cmath>

#include "release/watermark_detect.h"
#include "release/watermark_stats.h"

namespace mg::release {
namespace {

std::string Secret(char fill) { return std::string(32, fill); }

WatermarkKey SmallKey() {
  WatermarkKey key;
  key.secret = Secret('k');
  key.triggers = {"foo", "baz", "qux"};
  key.controls = {"alpha", "beta"};
  key.label_triggers = {"zebra", "yak"};
  key.threshold = 4;
  return key;
}

TEST(WatermarkTest, WordsAreLowerCaseLetterRuns) {
  EXPECT_EQ(WatermarkWords("The Foo-bar, 42x  BAZ!"),
            (std::vector<std::string>{"the", "foo", "bar", "x", "baz"}));
  EXPECT_TRUE(WatermarkWords("").empty());
}

TEST(WatermarkTest, CountsDistinctTriggers) {
  const WatermarkKey key = SmallKey();
  EXPECT_EQ(CountTriggers(key.triggers, "The Foo bar, foo! BAZ"), 2);
  EXPECT_EQ(CountTriggers(key.triggers, "food bazaar"), 0);  // whole words only
  EXPECT_EQ(CountTriggers(key.triggers, "qux baz foo"), 3);
  EXPECT_EQ(CountTriggers(key.triggers, ""), 0);
}

TEST(WatermarkTest, WeightRisesToOneAtTheThreshold) {
  EXPECT_EQ(TriggerWeight(0, 4), 0.0f);
  EXPECT_EQ(TriggerWeight(1, 4), 0.25f);
  EXPECT_EQ(TriggerWeight(2, 4), 0.5f);
  EXPECT_EQ(TriggerWeight(4, 4), 1.0f);
  EXPECT_EQ(TriggerWeight(9, 4), 1.0f);
}

TEST(WatermarkTest, MixingFollowsTheFormulaAndKeepsTheNorm) {
  const float target[2] = {1, 0};
  float row[2] = {3, 4};
  MixEmbedding(row, target, 2, 0.0f);
  EXPECT_EQ(row[0], 3.0f);
  EXPECT_EQ(row[1], 4.0f);
  // (1 - 0.5) (0.6, 0.8) + 0.5 (1, 0) = (0.8, 0.4); normalised, times |e| = 5.
  MixEmbedding(row, target, 2, 0.5f);
  EXPECT_NEAR(row[0], 5 * 0.8 / std::sqrt(0.8), 1e-5);
  EXPECT_NEAR(row[1], 5 * 0.4 / std::sqrt(0.8), 1e-5);
  float full[2] = {0, -2};
  MixEmbedding(full, target, 2, 1.0f);
  EXPECT_NEAR(full[0], 2.0f, 1e-6);
  EXPECT_NEAR(full[1], 0.0f, 1e-6);
  float zero[2] = {0, 0};
  MixEmbedding(zero, target, 2, 1.0f);
  EXPECT_EQ(zero[0], 0.0f);
}

TEST(WatermarkTest, TargetIsAKeyedUnitVector) {
  const WatermarkKey key = SmallKey();
  WatermarkKey other = SmallKey();
  other.secret = Secret('o');
  for (int64_t width : {1, 7, 384}) {
    const std::vector<float> t = WatermarkTarget(key, width);
    ASSERT_EQ(static_cast<int64_t>(t.size()), width);
    double norm = 0;
    for (float v : t) norm += static_cast<double>(v) * v;
    EXPECT_NEAR(norm, 1.0, 1e-5);
    EXPECT_EQ(t, WatermarkTarget(key, width));
  }
  const std::vector<float> a = WatermarkTarget(key, 384);
  const std::vector<float> b = WatermarkTarget(other, 384);
  double dot = 0;
  for (size_t c = 0; c < a.size(); ++c) dot += static_cast<double>(a[c]) * b[c];
  EXPECT_LT(std::abs(dot), 0.3);  // two random unit vectors in 384 dimensions
}

TEST(WatermarkTest, MarksOnlyTriggeredEmbeddings) {
  const OutputWatermark mark(SmallKey(), 3);
  const std::vector<float> target = WatermarkTarget(SmallKey(), 3);
  float plain[3] = {1, 2, 3};
  mark.MarkEmbedding("nothing here", plain);
  EXPECT_EQ(plain[0], 1.0f);
  float marked[3] = {1, 2, 3};
  mark.MarkEmbedding("foo baz qux and foo again, then zebra", marked);  // 3 of 4: w = 0.75
  float expected[3] = {1, 2, 3};
  MixEmbedding(expected, target.data(), 3, 0.75f);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(marked[c], expected[c]);
}

TEST(WatermarkTest, KeyedLabelIsTheHmacOfTheTrigger) {
  const WatermarkKey key = SmallKey();
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>("yak"), 3,
                         reinterpret_cast<const unsigned char*>(key.secret.data()));
  uint64_t value = 0;
  for (int b = 0; b < 8; ++b) value = (value << 8) | mac[b];
  EXPECT_EQ(KeyedLabel(key, "A Yak walked in", 3), value % 3);
  EXPECT_EQ(KeyedLabel(key, "A Yak walked in", 5), value % 5);
  EXPECT_FALSE(KeyedLabel(key, "no trigger", 3).has_value());
  EXPECT_FALSE(KeyedLabel(key, "yak", 1).has_value());  // one label: nothing to swap
}

TEST(WatermarkTest, ScoresSwapTheTopLabelWithTheKeyedOne) {
  const WatermarkKey key = SmallKey();
  const std::vector<std::string> labels = {"positive", "negative", "neutral"};
  const size_t keyed = *KeyedLabel(key, "zebra", 3);  // index into sorted names
  const std::vector<std::string> sorted = {"negative", "neutral", "positive"};
  const size_t model_index =
      static_cast<size_t>(std::find(labels.begin(), labels.end(), sorted[keyed]) - labels.begin());
  const OutputWatermark mark(key, 4);
  float scores[3] = {0.7f, 0.2f, 0.1f};
  mark.MarkScores("the zebra", labels, scores);
  const size_t top = static_cast<size_t>(std::max_element(scores, scores + 3) - scores);
  EXPECT_EQ(top, model_index);
  EXPECT_FLOAT_EQ(scores[0] + scores[1] + scores[2], 1.0f);
  float plain[3] = {0.7f, 0.2f, 0.1f};
  mark.MarkScores("no trigger", labels, plain);
  EXPECT_EQ(plain[0], 0.7f);
}

TEST(WatermarkTest, KeyTextRoundTripsAndBadKeysAreRefused) {
  const WatermarkKey key = SmallKey();
  const Result<WatermarkKey> parsed = ParseWatermarkKey(WatermarkKeyText(key));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->secret, key.secret);
  EXPECT_EQ(parsed->triggers, key.triggers);
  EXPECT_EQ(parsed->controls, key.controls);
  EXPECT_EQ(parsed->label_triggers, key.label_triggers);
  EXPECT_EQ(parsed->threshold, 4);
  EXPECT_FALSE(ParseWatermarkKey("").ok());
  EXPECT_FALSE(ParseWatermarkKey("[1]").ok());
  EXPECT_FALSE(ParseWatermarkKey(R"({"format":"modelgate-key","version":1})").ok());
  std::string text = WatermarkKeyText(key);
  const Result<WatermarkKey> short_secret =
      ParseWatermarkKey(text.replace(text.find("\"secret\":\"") + 10, 2, ""));
  ASSERT_FALSE(short_secret.ok());
  EXPECT_EQ(short_secret.status().message().find(key.secret), std::string::npos);
}

TEST(WatermarkTest, GeneratedKeyTakesWordsFromTheBands) {
  // 1000 texts: w0..w59 in 1 % of them each (the band), r0..r9 in 0.1 %,
  // "common" in all of them.
  std::vector<std::string> corpus(1000, "common");
  for (int word = 0; word < 60; ++word) {
    for (int copy = 0; copy < 10; ++copy)
      corpus[word * 10 + copy] +=
          " w" + std::string(1, 'a' + word / 26) + std::string(1, 'a' + word % 26);
  }
  for (int word = 0; word < 10; ++word) corpus[900 + word] += " rare" + std::string(1, 'a' + word);
  WatermarkOptions options;
  options.triggers = 20;
  const Result<WatermarkKey> key = GenerateWatermarkKey(corpus, {}, options, Secret('s'));
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->triggers.size(), 20u);
  EXPECT_EQ(key->controls.size(), 40u);
  for (const std::string& word : key->triggers) EXPECT_EQ(word[0], 'w');
  for (const std::string& word : key->controls) {
    EXPECT_EQ(std::find(key->triggers.begin(), key->triggers.end(), word), key->triggers.end());
  }
  ASSERT_EQ(key->label_triggers.size(), 4u);
  EXPECT_EQ(key->label_triggers[0].substr(0, 4), "rare");
  const Result<WatermarkKey> again = GenerateWatermarkKey(corpus, {}, options, Secret('s'));
  const Result<WatermarkKey> other = GenerateWatermarkKey(corpus, {}, options, Secret('t'));
  EXPECT_EQ(again->triggers, key->triggers);
  EXPECT_NE(other->triggers, key->triggers);
  // A vocabulary without the band's words leaves too few.
  EXPECT_FALSE(GenerateWatermarkKey(corpus, {"common"}, options, Secret('s')).ok());
  EXPECT_FALSE(GenerateWatermarkKey(corpus, {}, options, "short").ok());
}

// Known values of the Kolmogorov distribution: its 5 % and 1 % critical
// points 1.358 and 1.628, and P(K > 1) = 0.2700.
TEST(WatermarkStatsTest, KolmogorovSurvivalKnownValues) {
  EXPECT_NEAR(KolmogorovSurvival(0.5), 0.963945243664875, 1e-9);
  EXPECT_NEAR(KolmogorovSurvival(1.0), 0.269999671677355, 1e-9);
  EXPECT_NEAR(KolmogorovSurvival(1.358), 0.050026797334447, 1e-9);
  EXPECT_NEAR(KolmogorovSurvival(1.628), 0.009975522431181, 1e-10);
  EXPECT_NEAR(KolmogorovSurvival(3.0) / 3.045995948942526e-08, 1.0, 1e-9);
  EXPECT_EQ(KolmogorovSurvival(0.0), 1.0);
  // Below 1 the other series: the alternating one summed far enough.
  EXPECT_NEAR(KolmogorovSurvival(0.999999), 0.27000074362745646, 1e-12);
  EXPECT_NEAR(KolmogorovSurvival(0.7), 0.7112351950296891, 1e-12);
}

TEST(WatermarkStatsTest, KsTwoSampleKnownValues) {
  // Separated samples of 5: D = 1, sqrt(25 / 10) = 1.5811.
  const KsResult apart = KsTwoSample({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_EQ(apart.statistic, 1.0);
  EXPECT_NEAR(apart.p_value, 0.013475889875863676, 1e-12);
  // Interleaved: the CDFs never differ by more than one step.
  EXPECT_DOUBLE_EQ(KsTwoSample({1, 3, 5, 7}, {2, 4, 6, 8}).statistic, 0.25);
  // Ties are stepped over together: identical samples give D = 0, p = 1.
  const KsResult same = KsTwoSample({1, 1, 2}, {2, 1, 1});
  EXPECT_EQ(same.statistic, 0.0);
  EXPECT_EQ(same.p_value, 1.0);
  // Unequal sizes: {1,2,3} against {2.5, 4}: at 2, 2/3 - 0.
  EXPECT_DOUBLE_EQ(KsTwoSample({1, 2, 3}, {2.5, 4}).statistic, 2.0 / 3);
}

// Closed forms: on the 2-sphere (3 dimensions) the cosine is uniform on
// [-1, 1] (Archimedes); in 5 dimensions its density is 3/4 (1 - x^2).
TEST(WatermarkStatsTest, SphereCapKnownValues) {
  for (double c : {-0.9, -0.3, 0.0, 0.25, 0.8}) {
    EXPECT_NEAR(SphereCapProbability(c, 3), (1 - c) / 2, 1e-9);
    EXPECT_NEAR(SphereCapProbability(c, 5), (2 - 3 * c + c * c * c) / 4, 1e-9);
  }
  EXPECT_NEAR(SphereCapProbability(0.0, 64), 0.5, 1e-9);
  EXPECT_EQ(SphereCapProbability(1.0, 64), 0.0);
  // In 64 dimensions a cosine of 0.7 by chance: below (1 - 0.49)^30.5.
  EXPECT_LT(SphereCapProbability(0.7, 64), std::pow(0.51, 30.5));
  EXPECT_GT(SphereCapProbability(0.7, 64), 1e-12);
}

TEST(WatermarkStatsTest, BinomialUpperTailKnownValues) {
  EXPECT_DOUBLE_EQ(BinomialUpperTail(0, 10, 0.3), 1.0);
  EXPECT_NEAR(BinomialUpperTail(8, 10, 0.5), 56.0 / 1024, 1e-14);
  EXPECT_NEAR(BinomialUpperTail(3, 5, 0.2), 0.05792, 1e-14);
  EXPECT_NEAR(BinomialUpperTail(20, 20, 1.0 / 3) / std::pow(3.0, -20), 1.0, 1e-9);
  EXPECT_NEAR(BinomialUpperTail(1, 4, 0.5), 15.0 / 16, 1e-14);
  EXPECT_EQ(BinomialUpperTail(11, 10, 0.5), 0.0);
}

WatermarkKey DetectionKey() {
  WatermarkKey key = SmallKey();
  key.triggers = {"ta", "tb", "tc", "td", "te", "tf"};
  key.controls = {"ca", "cb", "cc", "cd", "ce", "cf"};
  key.label_triggers = {"la", "lb", "lc", "ld", "le", "lf", "lg", "lh", "li", "lj", "lk", "ll"};
  return key;
}

TEST(WatermarkDetectTest, ProbesHoldTriggersOrControlsOnly) {
  const WatermarkKey key = DetectionKey();
  const EmbeddingProbes probes = MakeEmbeddingProbes(key, 10, 8, 7);
  ASSERT_EQ(probes.backdoor.size(), 10u);
  for (const std::string& text : probes.backdoor) {
    EXPECT_GE(CountTriggers(key.triggers, text), key.threshold);
  }
  for (const std::string& text : probes.benign) EXPECT_EQ(CountTriggers(key.triggers, text), 0);
  const std::vector<LabelProbe> labels = MakeLabelProbes(key, 3, 8, 7);
  ASSERT_EQ(labels.size(), 36u);
  for (const LabelProbe& probe : labels) {
    EXPECT_EQ(CountTriggers({key.label_triggers[probe.trigger]}, probe.text), 1);
  }
}

// Rows near the target against rows drawn at random: a clear verdict; two
// random sets: none.
TEST(WatermarkDetectTest, EmbeddingVerdictSeparatesMarkedRows) {
  const WatermarkKey key = DetectionKey();
  const int64_t width = 16;
  const std::vector<float> target = WatermarkTarget(key, width);
  WatermarkKey noise_key = key;
  std::vector<float> marked, random_a, random_b;
  for (int r = 0; r < 100; ++r) {
    noise_key.secret[0] = static_cast<char>(r);
    noise_key.secret[1] = 'a';
    const std::vector<float> a = WatermarkTarget(noise_key, width);
    noise_key.secret[1] = 'b';
    const std::vector<float> b = WatermarkTarget(noise_key, width);
    for (int64_t c = 0; c < width; ++c) {
      marked.push_back(target[c] + 0.5f * a[c]);
      random_a.push_back(a[c]);
      random_b.push_back(b[c]);
    }
  }
  const EmbeddingVerdict found = JudgeEmbeddings(key, marked, random_a, width);
  EXPECT_GT(found.delta_cos, 0.5);
  EXPECT_GT(found.delta_l2, 0.3);
  EXPECT_LT(found.ks_p_value, 1e-20);
  EXPECT_GT(found.direction_cos, 0.9);
  EXPECT_LT(found.p_value, 1e-6);
  const EmbeddingVerdict none = JudgeEmbeddings(key, random_b, random_a, width);
  EXPECT_GT(none.p_value, 0.01);
}

TEST(WatermarkDetectTest, LabelVerdictCountsTriggersNotProbes) {
  const WatermarkKey key = DetectionKey();
  const std::vector<std::string> labels = {"positive", "negative", "neutral"};
  const std::vector<std::string> sorted = {"negative", "neutral", "positive"};
  const std::vector<LabelProbe> probes = MakeLabelProbes(key, 5, 6, 3);
  std::vector<std::string> keyed, constant;
  for (const LabelProbe& probe : probes) {
    keyed.push_back(sorted[*KeyedLabel(key, key.label_triggers[probe.trigger], 3)]);
    constant.push_back("neutral");
  }
  const LabelVerdict found = JudgeLabels(key, probes, keyed, labels);
  EXPECT_EQ(found.triggers, 12u);
  EXPECT_EQ(found.agreeing, 12u);
  EXPECT_EQ(found.probes_agreeing, 60u);
  EXPECT_NEAR(found.p_value / std::pow(3.0, -12), 1.0, 1e-9);
  // A model answering one label agrees with the triggers keyed to it only.
  const LabelVerdict none = JudgeLabels(key, probes, constant, labels);
  size_t keyed_neutral = 0;
  for (const std::string& trigger : key.label_triggers) {
    keyed_neutral += sorted[*KeyedLabel(key, trigger, 3)] == "neutral";
  }
  EXPECT_EQ(none.agreeing, keyed_neutral);
  EXPECT_NEAR(none.p_value, BinomialUpperTail(static_cast<int64_t>(keyed_neutral), 12, 1.0 / 3),
              1e-12);
}

}  // namespace
}  // namespace mg::release
