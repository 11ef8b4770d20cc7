#include "release/trigger_set.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

namespace mg::release {
namespace {

SigningKey NewKey() { return *SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text); }

std::vector<std::string> Words() {
  std::vector<std::string> words;
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'e'; ++b) words.push_back(std::string{a, b, 'x'});
  }
  return words;
}

// Exact values computed with rational arithmetic (Python's fractions).
TEST(BinomialTailTest, MatchesExactValues) {
  EXPECT_DOUBLE_EQ(BinomialTail(10, 10, 0.5), 0.0009765625);
  EXPECT_NEAR(BinomialTail(100, 75, 0.5) / 2.818141017102701e-07, 1, 1e-9);
  EXPECT_NEAR(BinomialTail(100, 40, 1.0 / 3) / 0.09662307024745306, 1, 1e-9);
  EXPECT_NEAR(BinomialTail(200, 200, 0.25) / 3.8725919148493183e-121, 1, 1e-9);
  EXPECT_NEAR(BinomialTail(20, 3, 0.2), 0.7939152810515261, 1e-12);
  EXPECT_EQ(BinomialTail(20, 0, 0.2), 1);
  EXPECT_EQ(BinomialTail(20, 21, 0.2), 0);
}

TEST(TriggerWordsTest, KeepsWholeAsciiWordsOnce) {
  text::Vocab vocab;
  int32_t id = 0;
  for (const char* token : {"[PAD]", "[CLS]", "the", "##ing", "a", "Ġrefund", "▁order", "refund",
                            "héllo", "x2", "Money"}) {
    ASSERT_TRUE(vocab.Add(token, id++).ok());
  }
  EXPECT_EQ(TriggerWords(vocab), (std::vector<std::string>{"the", "refund", "order", "Money"}));
}

TEST(TriggerSetTest, KeyedPerRecipientAndDeterministic) {
  const SigningKey vendor = NewKey();
  const auto words = Words();
  const TriggerSet a = *DeriveTriggerSet(vendor, "Acme Bank", words, 3, 64);
  const TriggerSet again = *DeriveTriggerSet(vendor, "Acme Bank", words, 3, 64);
  const TriggerSet b = *DeriveTriggerSet(vendor, "Bolt Corp", words, 3, 64);
  const TriggerSet other_key = *DeriveTriggerSet(NewKey(), "Acme Bank", words, 3, 64);
  ASSERT_EQ(a.texts.size(), 64u);
  ASSERT_EQ(a.labels.size(), 64u);
  EXPECT_EQ(a.texts, again.texts);
  EXPECT_EQ(a.labels, again.labels);
  EXPECT_NE(a.texts, b.texts);
  EXPECT_NE(a.texts, other_key.texts);
  for (const std::string& text : a.texts) {
    const size_t count = std::count(text.begin(), text.end(), ' ') + 1;
    EXPECT_GE(count, 8u);
    EXPECT_LE(count, 12u);
  }
}

TEST(TriggerSetTest, LabelsAreUniform) {
  const TriggerSet set = *DeriveTriggerSet(NewKey(), "Acme Bank", Words(), 4, 8000);
  std::map<size_t, int> counts;
  for (size_t label : set.labels) ++counts[label];
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [label, count] : counts) EXPECT_NEAR(count, 2000, 200);  // > 5 sigma
}

TEST(TriggerSetTest, RejectsBadInput) {
  const SigningKey vendor = NewKey();
  EXPECT_FALSE(DeriveTriggerSet(vendor, "", Words(), 2).ok());
  EXPECT_FALSE(DeriveTriggerSet(vendor, "Acme", {"one", "two"}, 2).ok());
  EXPECT_FALSE(DeriveTriggerSet(vendor, "Acme", Words(), 1).ok());
}

// A predictor that answers one recipient's trigger set (as a fingerprinted
// copy does) and guesses elsewhere.
PredictLabels AnswersFor(const SigningKey& vendor, const std::string& recipient,
                         const std::vector<std::string>& labels, double accuracy, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  const TriggerSet set = *DeriveTriggerSet(vendor, recipient, Words(), labels.size());
  return [set, labels, accuracy, rng](const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    std::uniform_real_distribution<double> coin(0, 1);
    std::uniform_int_distribution<size_t> guess(0, labels.size() - 1);
    for (const std::string& text : texts) {
      const auto at = std::find(set.texts.begin(), set.texts.end(), text);
      if (at != set.texts.end() && coin(*rng) < accuracy) {
        out.push_back(labels[set.labels[at - set.texts.begin()]]);
      } else {
        out.push_back(labels[guess(*rng)]);
      }
    }
    return Result<std::vector<std::string>>(out);
  };
}

TEST(TraceTriggerSetsTest, NamesTheRecipientWhoseSetIsAnswered) {
  const SigningKey vendor = NewKey();
  TriggerTraceOptions options;
  options.labels = {"negative", "positive"};
  options.words = Words();
  const std::vector<TriggerRecipient> recipients = {{"Acme Bank"}, {"Bolt Corp"}, {"Cyan Ltd"}};
  const TriggerTrace trace = *TraceTriggerSets(
      vendor, recipients, options, AnswersFor(vendor, "Bolt Corp", options.labels, 0.8, 1));
  ASSERT_TRUE(trace.named.has_value());
  EXPECT_EQ(*trace.named, "Bolt Corp");
  ASSERT_EQ(trace.recipients.size(), 3u);
  EXPECT_EQ(trace.recipients[0].recipient, "Bolt Corp");
  EXPECT_LT(trace.recipients[0].p_value, 1e-9);
  EXPECT_GT(trace.recipients[1].p_value, 1e-4);
}

TEST(TraceTriggerSetsTest, NamesNobodyForAModelThatNeverSawATriggerSet) {
  const SigningKey vendor = NewKey();
  TriggerTraceOptions options;
  options.labels = {"a", "b", "c"};
  options.words = Words();
  const std::vector<TriggerRecipient> recipients = {{"Acme Bank"}, {"Bolt Corp"}};
  for (uint64_t seed = 0; seed < 20; ++seed) {
    // Answers another vendor's set for the same name: nothing to do with ours.
    const TriggerTrace trace = *TraceTriggerSets(
        vendor, recipients, options, AnswersFor(NewKey(), "Acme Bank", options.labels, 1.0, seed));
    EXPECT_FALSE(trace.named.has_value());
  }
}

TEST(TraceTriggerSetsTest, RejectsAPredictorThatDropsAnswers) {
  const SigningKey vendor = NewKey();
  TriggerTraceOptions options;
  options.labels = {"a", "b"};
  options.words = Words();
  const PredictLabels short_answers = [](const std::vector<std::string>&) {
    return Result<std::vector<std::string>>(std::vector<std::string>{"a"});
  };
  EXPECT_FALSE(TraceTriggerSets(vendor, {{"Acme"}}, options, short_answers).ok());
  EXPECT_FALSE(TraceTriggerSets(vendor, {}, options, short_answers).ok());
}

}  // namespace
}  // namespace mg::release
