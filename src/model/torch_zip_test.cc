#include "model/torch_zip.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/file.h"
#include "model/model_io_test_util.h"

namespace mg::model {
namespace {

using testing::FloatBytes;
using testing::PickleBuilder;
using testing::StateDictPickle;
using testing::TensorSpec;
using testing::TorchZip;

// Parses from an exactly-sized heap copy (ASan catches any over-read) and
// returns each tensor's values as floats (F32 only).
Result<std::map<std::string, std::vector<float>>> Parse(const std::string& image) {
  std::vector<uint8_t> copy(image.begin(), image.end());
  MG_ASSIGN_OR_RETURN(std::vector<TensorRecord> records,
                      ParseTorchCheckpoint(copy.data(), copy.size(), "model.bin"));
  std::map<std::string, std::vector<float>> values;
  for (const TensorRecord& record : records) {
    std::vector<float>& out = values[record.name];
    out.resize(record.size_bytes / 4);
    if (!out.empty()) std::memcpy(out.data(), record.data, record.size_bytes);
  }
  return values;
}

void ExpectError(const std::string& image, const std::string& needle) {
  auto result = Parse(image);
  ASSERT_FALSE(result.ok()) << "accepted a checkpoint that should fail with: " << needle;
  EXPECT_NE(result.status().message().find(needle), std::string::npos)
      << result.status().ToString();
  EXPECT_NE(result.status().message().find("model.bin"), std::string::npos);
}

const std::string kTenFloats = FloatBytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

std::string OneTensor(const TensorSpec& spec, const std::string& storage = kTenFloats) {
  return TorchZip(StateDictPickle({spec}), {{spec.key, storage}});
}

TEST(TorchZipTest, ReadsViewsIntoASharedStorage) {
  const std::string image =
      TorchZip(StateDictPickle({{"a", "FloatStorage", "0", 10, 2, {2, 3}, {}},
                                {"b", "FloatStorage", "0", 10, 8, {2}, {}},
                                {"all", "FloatStorage", "0", 10, 0, {10}, {}},
                                {"scalar", "FloatStorage", "0", 10, 9, {}, {}},
                                {"empty", "FloatStorage", "0", 10, 10, {0, 5}, {}},
                                {"column", "FloatStorage", "0", 10, 4, {3, 1}, {1, 7}}}),
               {{"0", kTenFloats}});
  auto values = Parse(image);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at("a"), (std::vector<float>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(values->at("b"), (std::vector<float>{8, 9}));
  EXPECT_EQ(values->at("all").size(), 10u);
  EXPECT_EQ(values->at("scalar"), (std::vector<float>{9}));
  EXPECT_TRUE(values->at("empty").empty());
  EXPECT_EQ(values->at("column"), (std::vector<float>{4, 5, 6}));
}

TEST(TorchZipTest, AnyArchivePrefixAndDtype) {
  const std::string image = TorchZip(StateDictPickle({{"h", "HalfStorage", "7", 2, 0, {2}, {}}}),
                                     {{"7", std::string("\x00\x3c\x00\xc0", 4)}}, "pytorch_model");
  std::vector<uint8_t> copy(image.begin(), image.end());
  auto records = ParseTorchCheckpoint(copy.data(), copy.size(), "model.bin");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].dtype, DType::kF16);
  EXPECT_EQ((*records)[0].size_bytes, 4u);
}

TEST(TorchZipTest, RejectsBadViews) {
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 0, {2, 3}, {1, 2}}),
              "tensor 't' is not contiguous");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 8, {4}, {}}), "outside its storage");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 11, {0}, {}}), "outside its storage");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 1LL << 62, {1LL << 62}, {}}),
              "outside its storage");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 0, {1LL << 40, 1LL << 40}, {}}),
              "overflows");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 0, {2, 3}, {3}}), "differ in length");
}

TEST(TorchZipTest, RejectsBadStorages) {
  ExpectError(
      TorchZip(StateDictPickle({{"t", "FloatStorage", "5", 10, 0, {2}, {}}}), {{"0", kTenFloats}}),
      "needs storage record 'archive/data/5', which is missing");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 10, 0, {2}, {}}, FloatBytes({1, 2, 3})),
              "holds 12 bytes");
  ExpectError(OneTensor({"t", "DoubleStorage", "0", 10, 0, {2}, {}}), "holds 40 bytes");
  ExpectError(OneTensor({"t", "FloatStorage", "0", 1LL << 62, 0, {2}, {}}), "holds 40 bytes");
}

TEST(TorchZipTest, RejectsCompressedEntries) {
  const std::string pickle = StateDictPickle({{"t", "FloatStorage", "0", 10, 0, {2}, {}}});
  ExpectError(testing::BuildZip({{"archive/data.pkl", pickle}, {"archive/data/0", kTenFloats, 8}}),
              "is compressed (method 8)");
  ExpectError(testing::BuildZip({{"archive/data.pkl", pickle, 8}, {"archive/data/0", kTenFloats}}),
              "is compressed");
}

TEST(TorchZipTest, RejectsArchivesThatAreNotCheckpoints) {
  ExpectError(testing::BuildZip({{"archive/other.txt", "x"}}), "without data.pkl");
  ExpectError(testing::BuildZip({{"a/b/data.pkl", "x"}}), "without data.pkl");
  ExpectError(testing::BuildZip({{"a/data.pkl", "x"}, {"b/data.pkl", "y"}}), "several data.pkl");
  ExpectError(std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15),
              "legacy (pre-1.6, non-zip) PyTorch format");
  ExpectError("version https://git-lfs.github.com/spec/v1\n", "no zip signature");
  ExpectError("", "no zip signature");
  ExpectError("PK\x03\x04 and then nothing", "bad zip archive");
  std::string big_endian =
      testing::BuildZip({{"archive/data.pkl", StateDictPickle({})}, {"archive/byteorder", "big"}});
  ExpectError(big_endian, "byte order 'big'");
  std::string little = testing::BuildZip(
      {{"archive/data.pkl", StateDictPickle({{"t", "FloatStorage", "0", 10, 0, {1}, {}}})},
       {"archive/data/0", kTenFloats},
       {"archive/byteorder", "little"}});
  EXPECT_TRUE(Parse(little).ok());
}

TEST(TorchZipTest, FindsAStateDictNestedOneLevel) {
  const std::string inner = StateDictPickle({{"w", "FloatStorage", "0", 10, 0, {3}, {}}});
  const std::string body = inner.substr(2, inner.size() - 3);  // without PROTO and STOP
  for (const char* key : {"state_dict", "model", "model_state_dict", "module"}) {
    PickleBuilder pickle;
    pickle.Proto(2).Op('}').Op('(').Unicode("epoch").Int(3).Unicode(key).Raw(body).Op('u').Op('.');
    auto values = Parse(TorchZip(pickle.bytes(), {{"0", kTenFloats}}));
    ASSERT_TRUE(values.ok()) << key << ": " << values.status().ToString();
    EXPECT_EQ(values->at("w"), (std::vector<float>{0, 1, 2}));
  }
  PickleBuilder unknown;
  unknown.Proto(2).Op('}').Unicode("weights").Raw(body).Op('s').Op('.');
  ExpectError(TorchZip(unknown.bytes(), {{"0", kTenFloats}}), "no tensors in the pickled dict");
  ExpectError(TorchZip(PickleBuilder().Proto(2).Op(']').Op('.').bytes(), {}), "not a dict");
  // A tensor under an integer key.
  const size_t tensor_at = body.find("ctorch._utils");
  PickleBuilder int_key;
  int_key.Proto(2).Op('}').Int(5).Raw(body.substr(tensor_at, body.size() - 1 - tensor_at));
  int_key.Op('s').Op('.');
  ExpectError(TorchZip(int_key.bytes(), {{"0", kTenFloats}}), "key that is not a string");
}

TEST(TorchZipTest, RejectsMaliciousPickles) {
  // {"x": os.system("touch pwned")}: refused at the import, nothing runs.
  PickleBuilder pickle;
  pickle.Proto(2).Op('}').Unicode("x").Global("os", "system").Unicode("touch pwned");
  pickle.Op(0x85).Op('R').Op('s').Op('.');
  ExpectError(TorchZip(pickle.bytes(), {}), "refusing to load 'os.system'");
  ExpectError(TorchZip(pickle.bytes(), {}), "archive/data.pkl");
  EXPECT_FALSE(FileExists("pwned"));
}

TEST(TorchZipTest, EveryTruncationFailsCleanly) {
  const std::string image = OneTensor({"t", "FloatStorage", "0", 10, 2, {2, 3}, {}});
  for (size_t length = 0; length < image.size(); ++length) {
    EXPECT_FALSE(Parse(image.substr(0, length)).ok()) << length;
  }
}

TEST(TorchZipTest, FixtureSurvivesCutsAndCorruption) {
  Result<std::string> fixture =
      ReadFile("tests/data/fixtures/tiny-bert-ner-pytorch-bin/pytorch_model.bin");
  ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
  ASSERT_TRUE(Parse(*fixture).ok());
  std::mt19937 random(7);
  for (int trial = 0; trial < 300; ++trial) {
    EXPECT_FALSE(Parse(fixture->substr(0, random() % fixture->size())).ok());
  }
  for (size_t cut = 1; cut <= 200; ++cut) {
    EXPECT_FALSE(Parse(fixture->substr(0, fixture->size() - cut)).ok()) << cut;
  }
  // Corrupt the pickle and the zip structures (not the tensor bytes, which any value fits).
  const size_t directory = testing::ReadLe(*fixture, fixture->size() - 22 + 16, 4);
  // Each either fails with an error naming the file or parses (a flip in a
  // name or a number can leave a valid checkpoint); most are refused.
  int refused = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    std::string corrupt = *fixture;
    for (int flip = 0; flip < 2; ++flip) {
      const bool in_pickle = random() % 2 == 0;
      const size_t at =
          in_pickle ? random() % 3900 : directory + random() % (corrupt.size() - directory);
      corrupt[at] = static_cast<char>(random());
    }
    auto parsed = Parse(corrupt);
    if (parsed.ok()) continue;
    ++refused;
    EXPECT_NE(parsed.status().message().find("model.bin"), std::string::npos)
        << parsed.status().ToString();
  }
  EXPECT_GT(refused, 500);
}

}  // namespace
}  // namespace mg::model
