#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "model/model_io_test_util.h"
#include "model/safetensors_writer.h"

namespace mg::model {
namespace {

using testing::TempDir;

constexpr char kSafetensorsFixture[] = "tests/data/fixtures/tiny-bert-model-safetensors";
constexpr char kTorchFixture[] = "tests/data/fixtures/tiny-bert-ner-pytorch-bin";

TEST(CheckpointTest, RoundTripsEveryWritableDtype) {
  TempDir dir;
  const std::vector<float> values = {1.0f, -2.5f, 0.1f, 65504.0f, -0.0f, std::ldexp(1.0f, -24)};
  const std::vector<int64_t> ids = {5, -7, 1LL << 40};
  const std::string path = dir.File("model.safetensors");
  ASSERT_TRUE(WriteSafetensors(path,
                               {{"f32", DType::kF32, {2, 3}, values.data(), {}},
                                {"f16", DType::kF16, {6}, values.data(), {}},
                                {"bf16", DType::kBF16, {3, 2}, values.data(), {}},
                                {"ids", DType::kI64, {3}, nullptr, testing::Int64Bytes(ids)},
                                {"empty", DType::kF32, {0, 4}, nullptr, {}}},
                               {{"format", "pt"}})
                  .ok());
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  ASSERT_EQ(checkpoint->tensors().size(), 5u);
  EXPECT_EQ(checkpoint->metadata().at("format"), "pt");

  const TensorRecord* f32 = checkpoint->Find("f32");
  ASSERT_NE(f32, nullptr);
  EXPECT_EQ(f32->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f32->size_bytes, 24u);
  EXPECT_EQ(f32->file, path);
  EXPECT_EQ(*checkpoint->ReadF32(*f32), values);

  std::vector<float> expected_f16, expected_bf16;
  for (float value : values) {
    expected_f16.push_back(F16ToF32(F32ToF16(value)));
    expected_bf16.push_back(Bf16ToF32(F32ToBf16(value)));
  }
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("f16")), expected_f16);
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("bf16")), expected_bf16);
  EXPECT_TRUE(std::signbit((*checkpoint->ReadF32(*checkpoint->Find("f16")))[4]));

  const TensorRecord* id_record = checkpoint->Find("ids");
  ASSERT_NE(id_record, nullptr);
  EXPECT_EQ(id_record->dtype, DType::kI64);
  std::vector<int64_t> read_ids(3);
  std::memcpy(read_ids.data(), id_record->data, id_record->size_bytes);
  EXPECT_EQ(read_ids, ids);
  std::vector<float> sink(3);
  Status as_float = checkpoint->ReadF32(*id_record, sink.data());
  EXPECT_FALSE(as_float.ok());
  EXPECT_NE(as_float.message().find("'ids'"), std::string::npos);
  EXPECT_NE(as_float.message().find(path), std::string::npos);
  EXPECT_NE(as_float.message().find("I64"), std::string::npos);

  EXPECT_TRUE(checkpoint->ReadF32(*checkpoint->Find("empty"))->empty());
  EXPECT_EQ(checkpoint->Find("missing"), nullptr);
}

TEST(CheckpointTest, MovingKeepsRecordsValid) {
  TempDir dir;
  const std::vector<float> values = {3, 4};
  ASSERT_TRUE(
      WriteSafetensors(dir.File("w.safetensors"), {{"w", DType::kF32, {2}, values.data(), {}}}, {})
          .ok());
  Result<Checkpoint> opened = Checkpoint::OpenFile(dir.File("w.safetensors"));
  ASSERT_TRUE(opened.ok());
  Checkpoint moved = std::move(opened).value();
  EXPECT_EQ(*moved.ReadF32(*moved.Find("w")), values);
}

TEST(CheckpointTest, FromSafetensorsBufferOwnsTheBytes) {
  const std::vector<float> values = {1, 2, 3};
  auto bytes = std::make_shared<std::string>(
      *SerializeSafetensors({{"v", DType::kF32, {3}, values.data(), {}}}, {}));
  Result<Checkpoint> checkpoint = Checkpoint::FromSafetensorsBuffer(bytes, "bundle:model");
  bytes.reset();  // the checkpoint keeps its own reference
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("v")), values);
  EXPECT_EQ(checkpoint->Find("v")->file, "bundle:model");

  auto bad = std::make_shared<const std::string>("garbage!garbage!");
  Result<Checkpoint> broken = Checkpoint::FromSafetensorsBuffer(bad, "bundle:model");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("bundle:model"), std::string::npos);
  EXPECT_FALSE(Checkpoint::FromSafetensorsBuffer(nullptr, "x").ok());
}

TEST(CheckpointTest, LoadsShippedSafetensorsFixture) {
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(kSafetensorsFixture);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->tensors().size(), 37u);
  const TensorRecord* words = checkpoint->Find("embeddings.word_embeddings.weight");
  ASSERT_NE(words, nullptr);
  EXPECT_EQ(words->shape, (std::vector<int64_t>{256, 32}));
  EXPECT_EQ(words->dtype, DType::kF32);
  const TensorRecord* gamma = checkpoint->Find("encoder.layer.1.output.LayerNorm.weight");
  ASSERT_NE(gamma, nullptr);
  Result<std::vector<float>> gamma_values = checkpoint->ReadF32(*gamma);
  ASSERT_TRUE(gamma_values.ok());
  for (float value : *gamma_values) EXPECT_EQ(value, 1.0f);
  size_t total = 0;
  for (const TensorRecord& record : checkpoint->tensors()) total += record.size_bytes;
  EXPECT_GT(total, 100000u);
}

TEST(CheckpointTest, LoadsShippedTorchFixture) {
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(kTorchFixture);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->tensors().size(), 24u);
  EXPECT_TRUE(checkpoint->metadata().empty());
  const TensorRecord* positions = checkpoint->Find("bert.embeddings.position_ids");
  ASSERT_NE(positions, nullptr);
  EXPECT_EQ(positions->dtype, DType::kI64);
  EXPECT_EQ(positions->shape, (std::vector<int64_t>{1, 16}));
  for (int64_t index = 0; index < 16; ++index) {
    int64_t value;
    std::memcpy(&value, positions->data + 8 * index, 8);
    EXPECT_EQ(value, index);
  }
  const TensorRecord* words = checkpoint->Find("bert.embeddings.word_embeddings.weight");
  ASSERT_NE(words, nullptr);
  EXPECT_EQ(words->shape, (std::vector<int64_t>{402, 16}));
  const TensorRecord* classifier = checkpoint->Find("classifier.weight");
  ASSERT_NE(classifier, nullptr);
  EXPECT_EQ(classifier->shape, (std::vector<int64_t>{9, 16}));
  Result<std::vector<float>> gamma_values =
      checkpoint->ReadF32(*checkpoint->Find("bert.embeddings.LayerNorm.weight"));
  ASSERT_TRUE(gamma_values.ok());
  for (float value : *gamma_values) EXPECT_EQ(value, 1.0f);
  size_t parameters = 0;
  for (const TensorRecord& record : checkpoint->tensors()) {
    parameters += record.numel();
  }
  EXPECT_EQ(parameters, 10201u);
}

TEST(CheckpointTest, FolderErrors) {
  TempDir dir;
  Result<Checkpoint> none = Checkpoint::OpenFolder(dir.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("model.safetensors"), std::string::npos);

  Result<Checkpoint> missing = Checkpoint::OpenFile(dir.File("nope.safetensors"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  dir.Write("empty.safetensors", "");
  EXPECT_FALSE(Checkpoint::OpenFile(dir.File("empty.safetensors")).ok());
  EXPECT_FALSE(Checkpoint::OpenFile(dir.path()).ok());  // a directory
}

TEST(CheckpointTest, SafetensorsPreferredOverBin) {
  TempDir dir;
  const std::vector<float> values = {9};
  ASSERT_TRUE(WriteSafetensors(dir.File("model.safetensors"),
                               {{"w", DType::kF32, {1}, values.data(), {}}}, {})
                  .ok());
  dir.Write("pytorch_model.bin", "not even a zip");
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_NE(checkpoint->Find("w"), nullptr);
}

}  // namespace
}  // namespace mg::model
