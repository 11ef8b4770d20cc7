// Weights stored in reduced precision: which tensors change and how, that
// they read back as the values the engine quantises to the same codes, and
// that a damaged int8 tensor is a clear error.
#include "model/stored_precision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>

#include "kernels/quantize.h"
#include "model/safetensors_writer.h"

namespace mg::model {
namespace {

struct Stored {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// A small BERT checkpoint: two linear layers, a norm, a bias, the word and
// position embeddings and a classifier head.
std::vector<Stored> BertTensors() {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 0.2f);
  auto make = [&](std::string name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    Stored t{std::move(name), std::move(shape), std::vector<float>(static_cast<size_t>(n))};
    for (float& v : t.values) v = dist(rng);
    return t;
  };
  return {make("bert.embeddings.word_embeddings.weight", {30, 8}),
          make("bert.embeddings.position_embeddings.weight", {16, 8}),
          make("bert.encoder.layer.0.attention.self.query.weight", {8, 8}),
          make("bert.encoder.layer.0.attention.self.query.bias", {8}),
          make("bert.encoder.layer.0.intermediate.dense.weight", {12, 8}),
          make("bert.encoder.layer.0.output.LayerNorm.weight", {8}),
          make("classifier.weight", {3, 8})};
}

Checkpoint Open(std::string image) {
  Result<Checkpoint> checkpoint = Checkpoint::FromSafetensorsBuffer(
      std::make_shared<const std::string>(std::move(image)), "model.safetensors");
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status().message();
  return std::move(checkpoint).value();
}

Checkpoint F32Checkpoint(const std::vector<Stored>& tensors) {
  std::vector<TensorToWrite> write;
  for (const Stored& t : tensors)
    write.push_back({t.name, DType::kF32, t.shape, t.values.data(), {}});
  Result<std::string> image = SerializeSafetensors(write, {{"format", "pt"}});
  EXPECT_TRUE(image.ok());
  return Open(*image);
}

TEST(StoredPrecisionTest, Int8StoresLinearLayersAsCodesAndScales) {
  const std::vector<Stored> tensors = BertTensors();
  const Checkpoint source = F32Checkpoint(tensors);
  Result<std::string> image = SerializeInPrecision(source, BertFamily(), kernels::Precision::kInt8);
  ASSERT_TRUE(image.ok()) << image.status().message();
  const Checkpoint stored = Open(*image);
  EXPECT_EQ(StoredPrecisionOf(stored), kernels::Precision::kInt8);
  EXPECT_EQ(stored.metadata().at("format"), "pt");
  for (const Stored& t : tensors) {
    const TensorRecord* record = stored.Find(t.name);
    ASSERT_NE(record, nullptr) << t.name;
    const bool linear = t.name.ends_with("query.weight") || t.name.ends_with("dense.weight");
    const bool words = t.name.ends_with("word_embeddings.weight");
    EXPECT_EQ(record->dtype, linear ? DType::kI8 : words ? DType::kBF16 : DType::kF32) << t.name;
    EXPECT_EQ(record->shape, t.shape);
    EXPECT_EQ(stored.Find(t.name + "_scale") != nullptr, linear) << t.name;
    const std::vector<float> back = stored.ReadF32(*record).value();
    if (!linear) {
      for (size_t i = 0; i < back.size(); ++i) {
        const float want = words ? Bf16ToF32(F32ToBf16(t.values[i])) : t.values[i];
        ASSERT_EQ(back[i], want) << t.name << " " << i;
      }
      continue;
    }
    // The values read back quantise to the codes and scales of the original.
    const int64_t rows = t.shape[0], cols = t.shape[1];
    std::vector<int8_t> q(back.size()), q_back(back.size());
    std::vector<float> s(static_cast<size_t>(rows)), s_back(static_cast<size_t>(rows));
    kernels::QuantizeRowsS8(t.values.data(), rows, cols, q.data(), s.data());
    kernels::QuantizeRowsS8(back.data(), rows, cols, q_back.data(), s_back.data());
    EXPECT_EQ(q, q_back) << t.name;
    EXPECT_EQ(s, s_back) << t.name;
    EXPECT_EQ(std::memcmp(record->data, q.data(), q.size()), 0) << t.name;
    for (size_t i = 0; i < back.size(); ++i)
      ASSERT_LE(std::fabs(back[i] - t.values[i]), s[i / cols] / 2 * 1.0001f) << t.name;
  }
  // Storing again in int8 changes nothing; bf16 from int8 is refused.
  Result<std::string> again = SerializeInPrecision(stored, BertFamily(), kernels::Precision::kInt8);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *image);
  Result<std::string> bf16 = SerializeInPrecision(stored, BertFamily(), kernels::Precision::kBf16);
  ASSERT_FALSE(bf16.ok());
  EXPECT_NE(bf16.status().message().find("already stored as int8"), std::string::npos);
}

TEST(StoredPrecisionTest, Bf16StoresLinearLayersAndWordEmbeddingsAsBf16) {
  const std::vector<Stored> tensors = BertTensors();
  const Checkpoint source = F32Checkpoint(tensors);
  Result<std::string> image = SerializeInPrecision(source, BertFamily(), kernels::Precision::kBf16);
  ASSERT_TRUE(image.ok()) << image.status().message();
  const Checkpoint stored = Open(*image);
  EXPECT_EQ(StoredPrecisionOf(stored), kernels::Precision::kBf16);
  size_t bf16 = 0;
  for (const Stored& t : tensors) {
    const TensorRecord* record = stored.Find(t.name);
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(stored.Find(t.name + "_scale"), nullptr);
    bf16 += record->dtype == DType::kBF16;
  }
  EXPECT_EQ(bf16, 3u);  // word embeddings, query, intermediate
  EXPECT_FALSE(SerializeInPrecision(source, BertFamily(), kernels::Precision::kF32).ok());
  EXPECT_EQ(StoredPrecisionOf(source), std::nullopt);
}

TEST(StoredPrecisionTest, DamagedInt8TensorsAreClearErrors) {
  const std::vector<int8_t> codes = {1, -2, 3, 127, 0, -127};
  const std::string raw(reinterpret_cast<const char*>(codes.data()), codes.size());
  const std::vector<float> scales = {0.5f, 0.25f}, three = {1, 2, 3};
  const float inf = INFINITY;
  const std::vector<float> bad_scale = {0.5f, inf};
  struct Case {
    const char* what;
    std::vector<TensorToWrite> tensors;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no scales", {{"w", DType::kI8, {2, 3}, nullptr, raw}}, "without its scales ('w_scale')"},
      {"scales of the wrong length",
       {{"w", DType::kI8, {2, 3}, nullptr, raw}, {"w_scale", DType::kF32, {3}, three.data(), {}}},
       "not F32 [2]"},
      {"a vector of codes",
       {{"w", DType::kI8, {6}, nullptr, raw}, {"w_scale", DType::kF32, {2}, scales.data(), {}}},
       "not a matrix"},
      {"an infinite scale",
       {{"w", DType::kI8, {2, 3}, nullptr, raw},
        {"w_scale", DType::kF32, {2}, bad_scale.data(), {}}},
       "not finite"},
  };
  for (const Case& c : cases) {
    Result<std::string> image = SerializeSafetensors(c.tensors, {});
    ASSERT_TRUE(image.ok()) << c.what;
    const Checkpoint checkpoint = Open(*image);
    std::vector<float> out(6);
    const Status status = checkpoint.ReadF32(*checkpoint.Find("w"), out.data());
    ASSERT_FALSE(status.ok()) << c.what;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("'w'"), std::string::npos) << status.message();
  }
  // Intact, it reads as codes times scales.
  const std::vector<TensorToWrite> good = {{"w", DType::kI8, {2, 3}, nullptr, raw},
                                           {"w_scale", DType::kF32, {2}, scales.data(), {}}};
  const Checkpoint checkpoint = Open(SerializeSafetensors(good, {}).value());
  const std::vector<float> values = checkpoint.ReadF32(*checkpoint.Find("w")).value();
  EXPECT_EQ(values, (std::vector<float>{0.5f, -1.0f, 1.5f, 31.75f, 0.0f, -31.75f}));
}

}  // namespace
}  // namespace mg::model
