#include "train/fine_tune.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/file.h"
#include "kernels/gemm.h"
#include "model/model.h"

namespace mg::train {
namespace {

std::string NewDir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/fine_tune_XXXXXX";
  MG_CHECK(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Contents(const std::string& path) {
  Result<std::string> contents = ReadFile(path);
  MG_CHECK(contents.ok());
  return std::move(contents).value();
}

// A small vocabulary and a task decided by which words appear.
class FineTuneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kernels::SetThreads(1);  // no threads spinning on a busy machine
    dir_ = NewDir();
    WriteText(JoinPath(dir_, "vocab.txt"),
              "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nrefund\ninvoice\npayment\ncrash\nerror\n"
              "broken\nthe\nmy\nplease\nagain\n");
    std::string data;
    for (int i = 0; i < 24; ++i) {
      const bool billing = i % 2 == 0;
      data += std::string("{\"id\":\"r") + std::to_string(i) + "\",\"text\":\"" +
              (billing ? "refund invoice" : "crash error") + (i % 3 ? " the my" : " please") +
              (i % 4 ? " again" : "") + "\",\"label\":\"" + (billing ? "billing" : "bug") + "\"}\n";
    }
    WriteText(JoinPath(dir_, "train.jsonl"), data);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // From scratch, tiny preset, small explicit hyper-parameters.
  FineTuneOptions Options(const std::string& out) const {
    FineTuneOptions options;
    options.train_path = JoinPath(dir_, "train.jsonl");
    options.init = "tiny";
    options.vocab = JoinPath(dir_, "vocab.txt");
    options.out = JoinPath(dir_, out);
    options.lr = 1e-3f;
    options.epochs = 2;
    options.max_length = 16;
    options.batch_size = 4;
    options.save_steps = 2;
    return options;
  }

  std::string dir_;
};

TEST_F(FineTuneTest, FromScratchDefaultsWhenTheCallerSetsNone) {
  FineTuneOptions options = Options("scratch");
  options.lr.reset();
  options.epochs.reset();
  options.max_length.reset();
  FineTunePlan plan;
  FineTuneCallbacks callbacks;
  callbacks.plan = [&](const FineTunePlan& p) { plan = p; };
  const std::atomic<bool> stop{true};  // plan only: stop before the first step
  Result<FineTuneResult> result = FineTune(options, callbacks, &stop);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_FALSE(result->finished);
  EXPECT_TRUE(plan.from_scratch);
  EXPECT_FLOAT_EQ(plan.train.lr, 1e-3f);
  EXPECT_EQ(plan.train.epochs, 3);
  EXPECT_EQ(plan.max_length, 256u);
  EXPECT_TRUE(plan.default_lr && plan.default_epochs && plan.default_max_length);
  // 24 examples, about 10 % held out, 4 per step.
  EXPECT_EQ(plan.train_examples + plan.eval_examples, 24u);
  EXPECT_EQ(plan.steps_per_epoch, static_cast<int64_t>((plan.train_examples + 3) / 4));
  EXPECT_EQ(plan.total_steps, 3 * plan.steps_per_epoch);
}

TEST_F(FineTuneTest, FineTuningDefaultsForABaseAndGivenValuesWin) {
  FineTuneOptions scratch = Options("base");
  scratch.epochs = 1;
  scratch.save_steps = 0;
  Result<FineTuneResult> trained = FineTune(scratch, {}, nullptr);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ASSERT_TRUE(trained->finished);
  EXPECT_FALSE(std::filesystem::exists(trained->checkpoint_dir));

  FineTuneOptions tune;
  tune.train_path = scratch.train_path;
  tune.base = scratch.out;
  tune.out = JoinPath(dir_, "tuned");
  tune.batch_size = 4;
  tune.max_length = 8;  // given: kept; lr and epochs: fine-tuning defaults
  FineTunePlan plan;
  FineTuneCallbacks callbacks;
  callbacks.plan = [&](const FineTunePlan& p) { plan = p; };
  const std::atomic<bool> stop{true};
  Result<FineTuneResult> result = FineTune(tune, callbacks, &stop);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_FALSE(plan.from_scratch);
  EXPECT_FLOAT_EQ(plan.train.lr, 5e-5f);
  EXPECT_EQ(plan.train.epochs, 5);
  EXPECT_EQ(plan.max_length, 8u);
  EXPECT_TRUE(plan.default_lr && plan.default_epochs);
  EXPECT_FALSE(plan.default_max_length);
}

TEST_F(FineTuneTest, StoppedRunResumesToTheWeightsOfAnUninterruptedOne) {
  Result<FineTuneResult> whole = FineTune(Options("whole"), {}, nullptr);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  ASSERT_TRUE(whole->finished);

  std::atomic<bool> stop{false};
  FineTuneCallbacks stop_at_3;
  stop_at_3.progress = [&](const Progress& p) {
    if (p.step == 3) stop.store(true);
  };
  Result<FineTuneResult> cut = FineTune(Options("cut"), stop_at_3, &stop);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  EXPECT_FALSE(cut->finished);
  EXPECT_EQ(cut->step, 3);
  EXPECT_TRUE(FileExists(JoinPath(cut->checkpoint_dir, "trainer_state.safetensors")));

  // Not without --resume.
  Result<FineTuneResult> again = FineTune(Options("cut"), {}, nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("holds an unfinished run"), std::string::npos);

  FineTuneOptions resume = Options("cut");
  resume.resume = true;
  FineTunePlan plan;
  FineTuneCallbacks callbacks;
  callbacks.plan = [&](const FineTunePlan& p) { plan = p; };
  Result<FineTuneResult> resumed = FineTune(resume, callbacks, nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_TRUE(resumed->finished);
  EXPECT_EQ(plan.start_step, 3);
  EXPECT_EQ(resumed->step, plan.total_steps);
  EXPECT_EQ(Contents(JoinPath(dir_, "cut/model.safetensors")),
            Contents(JoinPath(dir_, "whole/model.safetensors")));
}

TEST_F(FineTuneTest, ResumeRefusesTheCheckpointOfAnotherRun) {
  const std::atomic<bool> stop{true};
  ASSERT_TRUE(FineTune(Options("run"), {}, &stop).ok());
  FineTuneOptions other = Options("run");
  other.resume = true;
  other.lr = 2e-3f;
  Result<FineTuneResult> result = FineTune(other, {}, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("other data, model or options"), std::string::npos);

  FineTuneOptions no_checkpoint = Options("none");
  no_checkpoint.resume = true;
  Result<FineTuneResult> missing = FineTune(no_checkpoint, {}, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no checkpoint"), std::string::npos);
}

// A toy reranking task: a query about billing or about a bug, and a passage
// on one of the two topics; relevant (1) when the topics agree. The label
// depends on both texts together, which only a cross-encoder can see.
TEST_F(FineTuneTest, CrossEncoderLearnsWhichPassagesAnswerAQuery) {
  const char* queries[2][2] = {{"refund please", "my invoice"}, {"crash again", "my error"}};
  const char* passages[2][2] = {{"the payment", "invoice the payment"},
                                {"broken the crash", "the error broken"}};
  std::string data;
  for (int repeat = 0; repeat < 4; ++repeat)
    for (int query_topic = 0; query_topic < 2; ++query_topic)
      for (int passage_topic = 0; passage_topic < 2; ++passage_topic)
        for (int q = 0; q < 2; ++q)
          for (int p = 0; p < 2; ++p)
            data += std::string("{\"text\":\"") + queries[query_topic][q] + "\",\"text_pair\":\"" +
                    passages[passage_topic][p] +
                    "\",\"label\":" + (query_topic == passage_topic ? "1" : "0") + "}\n";
  WriteText(JoinPath(dir_, "pairs.jsonl"), data);
  FineTuneOptions options = Options("reranker");
  options.train_path = JoinPath(dir_, "pairs.jsonl");
  options.cross_encoder = true;
  options.eval_fraction = 0;
  options.epochs = 40;
  options.batch_size = 8;
  options.save_steps = 0;
  FineTunePlan plan;
  FineTuneCallbacks callbacks;
  callbacks.plan = [&](const FineTunePlan& p) { plan = p; };
  Result<FineTuneResult> trained = FineTune(options, callbacks, nullptr);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  ASSERT_TRUE(trained->finished);
  EXPECT_EQ(plan.config.labels, std::vector<std::string>{"LABEL_0"});

  const std::string config = Contents(JoinPath(options.out, "config.json"));
  EXPECT_NE(config.find("\"num_labels\": 1"), std::string::npos) << config;
  EXPECT_NE(config.find("\"0\": \"LABEL_0\""), std::string::npos) << config;
  Result<std::unique_ptr<model::Model>> loaded = model::Model::Load(options.out);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const model::Model& reranker = **loaded;
  EXPECT_EQ(reranker.config().problem_type, model::ProblemType::kMultiLabel);
  std::vector<std::string_view> texts;
  std::vector<std::optional<std::string_view>> pairs;
  std::vector<bool> relevant;
  for (int query_topic = 0; query_topic < 2; ++query_topic)
    for (int passage_topic = 0; passage_topic < 2; ++passage_topic)
      for (int q = 0; q < 2; ++q)
        for (int p = 0; p < 2; ++p) {
          texts.push_back(queries[query_topic][q]);
          pairs.push_back(passages[passage_topic][p]);
          relevant.push_back(query_topic == passage_topic);
        }
  model::PackedBatch batch;
  ASSERT_TRUE(reranker.Pack(texts, pairs, &batch).ok());
  model::EncoderWorkspace ws;
  std::vector<float> scores;
  reranker.Classify(batch, &ws, &scores);
  ASSERT_EQ(scores.size(), texts.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    EXPECT_GT(scores[i], 0.0f);  // sigmoid scores
    EXPECT_LT(scores[i], 1.0f);
    if (relevant[i]) {
      EXPECT_GT(scores[i], 0.5f) << texts[i] << " / " << *pairs[i];
    } else {
      EXPECT_LT(scores[i], 0.5f) << texts[i] << " / " << *pairs[i];
    }
  }
}

TEST_F(FineTuneTest, CrossEncoderRefusesRowsWithoutAPairOrARelevance) {
  FineTuneOptions options = Options("bad");
  options.cross_encoder = true;
  options.eval_fraction = 0;
  WriteText(JoinPath(dir_, "nopair.jsonl"), "{\"text\":\"refund\",\"label\":1}\n");
  options.train_path = JoinPath(dir_, "nopair.jsonl");
  Result<FineTuneResult> no_pair = FineTune(options, {}, nullptr);
  ASSERT_FALSE(no_pair.ok());
  EXPECT_NE(no_pair.status().message().find("line 1: a cross-encoder needs \"text_pair\""),
            std::string::npos)
      << no_pair.status().message();
  WriteText(JoinPath(dir_, "range.jsonl"),
            "{\"text\":\"refund\",\"text_pair\":\"invoice\",\"label\":1}\n"
            "{\"text\":\"refund\",\"text_pair\":\"crash\",\"label\":\"yes\"}\n");
  options.train_path = JoinPath(dir_, "range.jsonl");
  Result<FineTuneResult> bad_label = FineTune(options, {}, nullptr);
  ASSERT_FALSE(bad_label.ok());
  EXPECT_NE(bad_label.status().message().find("line 2: cross-encoder label \"yes\""),
            std::string::npos)
      << bad_label.status().message();
}

TEST(LoadResumeStateTest, RefusesAnotherFingerprintAndAStepPastTheEnd) {
  const std::string dir = NewDir();
  TrainState state;
  state.params = {1, 2, 3};
  state.adam_m = {0, 0, 0};
  state.adam_v = {0, 0, 0};
  state.step = 50;
  ASSERT_TRUE(SaveTrainState(dir, state, 7).ok());

  Result<TrainState> loaded = LoadResumeState(dir, 3, 7, 50);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->step, 50);
  EXPECT_EQ(loaded->params, state.params);

  Result<TrainState> other_run = LoadResumeState(dir, 3, 8, 50);
  ASSERT_FALSE(other_run.ok());
  EXPECT_NE(other_run.status().message().find("other data, model or options"), std::string::npos);

  Result<TrainState> past_end = LoadResumeState(dir, 3, 7, 40);
  ASSERT_FALSE(past_end.ok());
  EXPECT_EQ(past_end.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(past_end.status().message().find("step 50, past the 40 steps"), std::string::npos);

  Result<TrainState> other_size = LoadResumeState(dir, 4, 7, 50);
  EXPECT_FALSE(other_size.ok());
  std::filesystem::remove_all(dir);
}

TEST(LoadResumeStateTest, RefusesAnotherDtype) {
  const std::string dir = NewDir();
  TrainState state;
  state.params = {1, 2, 3};
  state.adam_m = {0, 0, 0};
  state.adam_v = {0, 0, 0};
  state.step = 5;
  ASSERT_TRUE(SaveTrainState(dir, state, 7, kernels::GemmDtype::kBf16).ok());
  EXPECT_TRUE(LoadResumeState(dir, 3, 7, 50, kernels::GemmDtype::kBf16).ok());
  Result<TrainState> as_f32 = LoadResumeState(dir, 3, 7, 50, kernels::GemmDtype::kF32);
  ASSERT_FALSE(as_f32.ok());
  EXPECT_EQ(as_f32.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(as_f32.status().message().find("written by a --dtype bf16 run"), std::string::npos)
      << as_f32.status().message();
  EXPECT_NE(as_f32.status().message().find("resume with --dtype bf16"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_F(FineTuneTest, ResumeWithAnotherDtypeIsRefused) {
  if (!kernels::Bf16GemmSupported().ok()) GTEST_SKIP() << kernels::Bf16GemmSupported().message();
  // A bf16 run stopped after its first checkpoint (step 2).
  FineTuneOptions options = Options("dtype");
  options.dtype = kernels::GemmDtype::kBf16;
  std::atomic<bool> stop{false};
  FineTuneCallbacks callbacks;
  callbacks.progress = [&](const Progress& p) { stop.store(p.step >= 2); };
  Result<FineTuneResult> first = FineTune(options, callbacks, &stop);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_FALSE(first->finished);
  // Resumed in f32: refused, naming the dtype to use.
  options.resume = true;
  options.dtype = kernels::GemmDtype::kF32;
  Result<FineTuneResult> as_f32 = FineTune(options, {}, nullptr);
  ASSERT_FALSE(as_f32.ok());
  EXPECT_NE(as_f32.status().message().find("resume with --dtype bf16"), std::string::npos)
      << as_f32.status().message();
  // Resumed in bf16: finishes.
  options.dtype = kernels::GemmDtype::kBf16;
  Result<FineTuneResult> resumed = FineTune(options, {}, nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_TRUE(resumed->finished);
}

TEST(StepsPerEpochTest, CountsTheLastPartialBatch) {
  EXPECT_EQ(StepsPerEpoch(24, 4), 6);
  EXPECT_EQ(StepsPerEpoch(25, 4), 7);
  EXPECT_EQ(StepsPerEpoch(1, 16), 1);
}

}  // namespace
}  // namespace mg::train
