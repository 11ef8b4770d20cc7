#include "model/shard_index.h"

#include <gtest/gtest.h>

#include "model/checkpoint.h"
#include "model/model_io_test_util.h"
#include "model/safetensors_writer.h"

namespace mg::model {
namespace {

using testing::TempDir;

void ExpectIndexError(const std::string& text, const std::string& needle) {
  Result<ShardIndex> index = ParseShardIndex(text, "idx.json");
  ASSERT_FALSE(index.ok()) << text;
  EXPECT_NE(index.status().message().find(needle), std::string::npos) << index.status().ToString();
  EXPECT_NE(index.status().message().find("idx.json"), std::string::npos);
}

TEST(ShardIndexTest, ParsesWeightMap) {
  Result<ShardIndex> index = ParseShardIndex(
      R"({"metadata": {"total_size": 8}, "weight_map": {"b": "s2", "a": "s1", "c": "s2"}})",
      "idx.json");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->weight_map.size(), 3u);
  EXPECT_EQ(index->weight_map.at("a"), "s1");
  EXPECT_EQ(index->shards.size(), 2u);
}

TEST(ShardIndexTest, RejectsBadIndexes) {
  ExpectIndexError("{oops", "not a JSON object");
  ExpectIndexError("{}", "weight_map");
  ExpectIndexError(R"({"weight_map": {}})", "weight_map");
  ExpectIndexError(R"({"weight_map": {"a": 3}})", "not a string");
  ExpectIndexError(R"({"weight_map": {"a": "../outside.safetensors"}})", "not a file name");
  ExpectIndexError(R"({"weight_map": {"a": "/etc/passwd"}})", "not a file name");
  ExpectIndexError(R"({"weight_map": {"a": "sub/dir.safetensors"}})", "not a file name");
  ExpectIndexError(R"({"weight_map": {"a": ".."}})", "not a file name");
  ExpectIndexError(R"({"weight_map": {"a": ""}})", "not a file name");
}

// Two safetensors shards: a, b in the first; c in the second.
void WriteShards(const TempDir& dir) {
  const std::vector<float> values = {1, 2, 3, 4};
  ASSERT_TRUE(WriteSafetensors(dir.File("model-00001-of-00002.safetensors"),
                               {{"a", DType::kF32, {2}, values.data(), {}},
                                {"b", DType::kF32, {2}, values.data() + 2, {}}},
                               {{"format", "pt"}})
                  .ok());
  ASSERT_TRUE(WriteSafetensors(dir.File("model-00002-of-00002.safetensors"),
                               {{"c", DType::kBF16, {4}, values.data(), {}}}, {})
                  .ok());
}

constexpr char kGoodIndex[] = R"({"weight_map": {
  "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
  "c": "model-00002-of-00002.safetensors"}})";

TEST(ShardedCheckpointTest, LoadsEveryShard) {
  TempDir dir;
  WriteShards(dir);
  dir.Write("model.safetensors.index.json", kGoodIndex);
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  ASSERT_EQ(checkpoint->tensors().size(), 3u);
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("b")), (std::vector<float>{3, 4}));
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("c")), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_NE(checkpoint->Find("c")->file.find("model-00002-of-00002"), std::string::npos);
  EXPECT_EQ(checkpoint->metadata().at("format"), "pt");
}

void ExpectFolderError(const TempDir& dir, const std::string& needle) {
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(dir.path());
  ASSERT_FALSE(checkpoint.ok());
  EXPECT_NE(checkpoint.status().message().find(needle), std::string::npos)
      << checkpoint.status().ToString();
}

TEST(ShardedCheckpointTest, RejectsEscapingMissingAndInconsistentShards) {
  TempDir dir;
  WriteShards(dir);
  dir.Write("model.safetensors.index.json",
            R"({"weight_map": {"a": "../model-00001-of-00002.safetensors"}})");
  ExpectFolderError(dir, "not a file name inside the model folder");

  dir.Write("model.safetensors.index.json", R"({"weight_map": {"a": "model-9.safetensors"}})");
  ExpectFolderError(dir, "shard 'model-9.safetensors' is missing");

  dir.Write("model.safetensors.index.json",
            R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                               "zz": "model-00002-of-00002.safetensors"}})");
  ExpectFolderError(dir, "tensor 'zz' is listed in shard 'model-00002-of-00002.safetensors'");

  dir.Write("model.safetensors.index.json",
            R"({"weight_map": {"c": "model-00001-of-00002.safetensors",
                               "a": "model-00002-of-00002.safetensors"}})");
  ExpectFolderError(dir, "absent from it");

  dir.Write("model.safetensors.index.json", "{\"weight_map\": ");
  ExpectFolderError(dir, "not a JSON object");
}

TEST(ShardedCheckpointTest, RejectsATensorStoredTwice) {
  TempDir dir;
  WriteShards(dir);
  const std::vector<float> values = {7, 8};
  ASSERT_TRUE(WriteSafetensors(dir.File("model-00002-of-00002.safetensors"),
                               {{"a", DType::kF32, {2}, values.data(), {}}}, {})
                  .ok());
  dir.Write("model.safetensors.index.json",
            R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                               "b": "model-00002-of-00002.safetensors"}})");
  ExpectFolderError(dir, "also stored in");
}

TEST(ShardedCheckpointTest, ACorruptShardNamesItself) {
  TempDir dir;
  WriteShards(dir);
  dir.Write("model-00002-of-00002.safetensors", std::string("\x10\0\0\0\0\0\0\0{}", 10));
  dir.Write("model.safetensors.index.json", kGoodIndex);
  ExpectFolderError(dir, "model-00002-of-00002.safetensors");
}

TEST(ShardedCheckpointTest, LoadsShardedTorchBins) {
  TempDir dir;
  using testing::TensorSpec;
  dir.Write("pytorch_model-00001-of-00002.bin",
            testing::TorchZip(testing::StateDictPickle({{"x", "FloatStorage", "0", 2, 0, {2}, {}}}),
                              {{"0", testing::FloatBytes({5, 6})}}));
  dir.Write("pytorch_model-00002-of-00002.bin",
            testing::TorchZip(testing::StateDictPickle({{"y", "FloatStorage", "0", 1, 0, {1}, {}}}),
                              {{"0", testing::FloatBytes({7})}}));
  dir.Write("pytorch_model.bin.index.json",
            R"({"weight_map": {"x": "pytorch_model-00001-of-00002.bin",
                               "y": "pytorch_model-00002-of-00002.bin"}})");
  Result<Checkpoint> checkpoint = Checkpoint::OpenFolder(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("x")), (std::vector<float>{5, 6}));
  EXPECT_EQ(*checkpoint->ReadF32(*checkpoint->Find("y")), (std::vector<float>{7}));
}

}  // namespace
}  // namespace mg::model
