// Labelled data: label collection and order, bad rows by line number, the
// eval split, batch packing; and the metrics against hand-counted cases.
#include <gtest/gtest.h>

#include "train/dataset.h"
#include "train/metrics.h"

namespace mg::train {
namespace {

std::vector<data::Record> Parse(const std::string& jsonl) {
  auto records = data::ParseRecords(jsonl, "t.jsonl");
  EXPECT_TRUE(records.ok()) << records.status().message();
  return *records;
}

TEST(TrainData, LabelsSortedNumericallyOrByName) {
  auto numeric =
      CollectLabels(Parse("{\"text\":\"a\",\"label\":10}\n{\"text\":\"b\",\"label\":2}\n"),
                    model::ProblemType::kSingleLabel, "t");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(*numeric, (std::vector<std::string>{"2", "10"}));
  auto names = CollectLabels(
      Parse("{\"text\":\"a\",\"label\":\"spam\"}\n{\"text\":\"b\",\"label\":\"ham\"}\n"),
      model::ProblemType::kSingleLabel, "t");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"ham", "spam"}));
  auto multi =
      CollectLabels(Parse("{\"text\":\"a\",\"label\":\"x|y\"}\n{\"text\":\"b\",\"label\":\"z\"}\n"),
                    model::ProblemType::kMultiLabel, "t");
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(*multi, (std::vector<std::string>{"x", "y", "z"}));
}

TEST(TrainData, BadRowsNamedByLine) {
  auto missing = CollectLabels(Parse("{\"text\":\"a\",\"label\":\"x\"}\n\n{\"text\":\"b\"}\n"),
                               model::ProblemType::kSingleLabel, "t.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("t.jsonl line 3"), std::string::npos)
      << missing.status().message();
  auto one = CollectLabels(Parse("{\"text\":\"a\",\"label\":\"x\"}\n"),
                           model::ProblemType::kSingleLabel, "t.jsonl");
  EXPECT_FALSE(one.ok());
}

TEST(TrainData, SplitIsStableAndNearTheFraction) {
  std::string jsonl;
  for (int i = 0; i < 2000; ++i)
    jsonl += "{\"text\":\"t\",\"label\":\"x\",\"id\":\"doc" + std::to_string(i) + "\"}\n";
  auto a = Parse(jsonl), b = Parse(jsonl);
  std::vector<data::Record> eval_a, eval_b;
  SplitForEval(&a, 0.2, 1, &eval_a);
  SplitForEval(&b, 0.2, 1, &eval_b);
  ASSERT_EQ(eval_a.size(), eval_b.size());
  for (size_t i = 0; i < eval_a.size(); ++i) EXPECT_EQ(eval_a[i].id, eval_b[i].id);
  EXPECT_EQ(a.size() + eval_a.size(), 2000u);
  EXPECT_NEAR(static_cast<double>(eval_a.size()), 400.0, 90.0);  // binomial sd ~18
}

TEST(TrainData, EpochOrderIsAPermutationPerEpoch) {
  auto first = EpochOrder(100, 42, 0), again = EpochOrder(100, 42, 0),
       next = EpochOrder(100, 42, 1);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, next);
  std::sort(next.begin(), next.end());
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(next[i], i);
}

TEST(TrainData, PackBatchConcatenatesWithoutPadding) {
  LabelledSet set;
  set.examples = {{{101, 7, 102}, {0, 0, 0}, {1}}, {{101, 102}, {0, 0}, {0}}};
  TrainBatch batch;
  PackBatch(set, {1, 0}, 0, 2, &batch);
  EXPECT_EQ(batch.ids, (std::vector<int32_t>{101, 102, 101, 7, 102}));
  EXPECT_EQ(batch.offsets, (std::vector<int64_t>{0, 2, 5}));
  EXPECT_EQ(batch.targets, (std::vector<float>{0, 1}));
}

TEST(TrainMetrics, SingleLabelByHand) {
  // truth:     0 0 0 1 1 2
  // predicted: 0 0 1 1 2 2
  const auto m = SingleLabelMetrics({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.per_label[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(m.per_label[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.per_label[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(m.per_label[1].recall, 0.5);
  EXPECT_DOUBLE_EQ(m.per_label[2].precision, 0.5);
  EXPECT_DOUBLE_EQ(m.per_label[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(m.macro_f1, (0.8 + 0.5 + 2.0 / 3) / 3);
  EXPECT_EQ(m.confusion, (std::vector<std::vector<int64_t>>{{2, 1, 0}, {0, 1, 1}, {0, 0, 1}}));
  EXPECT_EQ(m.per_label[0].support, 3);
}

}  // namespace
}  // namespace mg::train
