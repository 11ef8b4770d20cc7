#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/file.h"
#include "model/model_io_test_util.h"
#include "model/safetensors_writer.h"

namespace mg::model {
namespace {

// Parses from an exactly-sized heap copy (so any over-read is caught by
// ASan) and checks what a successful parse promises: the tensors tile the
// data area after the header exactly, each sized shape x dtype size. A
// failure must name the file.
Result<SafetensorsContents> Parse(const std::string& image) {
  std::vector<uint8_t> copy(image.begin(), image.end());
  auto result = ParseSafetensors(copy.data(), copy.size(), "test.safetensors");
  if (!result.ok()) {
    EXPECT_NE(result.status().message().find("test.safetensors"), std::string::npos)
        << result.status().ToString();
    return result;
  }
  const uint8_t* end = copy.data() + copy.size();
  const uint8_t* next = result->tensors.empty() ? end : result->tensors.front().data;
  EXPECT_GE(next, copy.data() + 8);
  for (const TensorRecord& record : result->tensors) {
    EXPECT_EQ(record.data, next) << record.name << ": a hole or an overlap before it";
    size_t numel = 1;
    for (int64_t dim : record.shape) numel *= static_cast<size_t>(dim);
    EXPECT_EQ(record.size_bytes, numel * DTypeSize(record.dtype)) << record.name;
    if (record.size_bytes > static_cast<size_t>(end - record.data)) {
      ADD_FAILURE() << record.name << " runs past the end of the image";
      break;
    }
    next = record.data + record.size_bytes;
  }
  EXPECT_EQ(next, end) << "bytes after the last tensor";
  result->tensors.clear();  // the records point into `copy`
  return result;
}

// A safetensors image from a header text and a data area.
std::string Image(const std::string& header, size_t data_bytes) {
  std::string image(8, '\0');
  testing::PatchLe(&image, 0, header.size(), 8);
  return image + header + std::string(data_bytes, '\x01');
}

std::string SmallImage() {
  const std::vector<float> values = {1.0f, -2.0f, 0.5f, 3.25f, 7.0f, -0.125f};
  const std::string ids = testing::Int64Bytes({0, 1, 2});
  std::vector<TensorToWrite> tensors = {
      {"a.weight", DType::kF32, {2, 3}, values.data(), {}},
      {"a.half", DType::kF16, {3}, values.data(), {}},
      {"ids", DType::kI64, {1, 3}, nullptr, ids},
  };
  Result<std::string> image = SerializeSafetensors(tensors, {{"format", "pt"}});
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return *image;
}

void ExpectError(const std::string& image, const std::string& needle) {
  Result<SafetensorsContents> result = Parse(image);
  ASSERT_FALSE(result.ok()) << "accepted an image that should fail with: " << needle;
  EXPECT_NE(result.status().message().find(needle), std::string::npos)
      << result.status().ToString();
  EXPECT_NE(result.status().message().find("test.safetensors"), std::string::npos);
}

TEST(SafetensorsTest, ParsesWrittenImage) {
  Result<SafetensorsContents> result = Parse(SmallImage());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->metadata.at("format"), "pt");
}

TEST(SafetensorsTest, EveryTruncationFailsCleanly) {
  const std::string image = SmallImage();
  for (size_t length = 0; length < image.size(); ++length) {
    EXPECT_FALSE(Parse(image.substr(0, length)).ok()) << "prefix of " << length << " bytes";
  }
}

TEST(SafetensorsTest, HeaderLengthChecks) {
  std::string image = SmallImage();
  testing::PatchLe(&image, 0, image.size(), 8);
  ExpectError(image, "runs past the end");
  testing::PatchLe(&image, 0, ~uint64_t{0}, 8);
  ExpectError(image, "exceeds the limit");
  testing::PatchLe(&image, 0, kMaxSafetensorsHeaderBytes + 1, 8);
  ExpectError(image, "exceeds the limit");
}

TEST(SafetensorsTest, RejectsBadJson) {
  ExpectError(Image("{not json", 0), "not valid JSON");
  ExpectError(Image("[1, 2]", 0), "not a JSON object");
  ExpectError(Image("{\"a\": 5}", 0), "not a JSON object");
  ExpectError(Image("{\"__metadata__\": [1]}", 0), "__metadata__");
  ExpectError(Image("{\"__metadata__\": {\"k\": 1}}", 0), "not a string");
}

TEST(SafetensorsTest, RejectsBadEntries) {
  const auto entry = [](const std::string& dtype, const std::string& shape,
                        const std::string& offsets) {
    return "{\"t\": {\"dtype\": " + dtype + ", \"shape\": " + shape +
           ", \"data_offsets\": " + offsets + "}}";
  };
  ExpectError(Image(entry("\"F8_E4M3\"", "[2]", "[0, 2]"), 2), "F8_E4M3");
  ExpectError(Image(entry("\"Q4_K\"", "[2]", "[0, 2]"), 2), "unsupported dtype 'Q4_K'");
  ExpectError(Image(entry("5", "[2]", "[0, 8]"), 8), "dtype");
  ExpectError(Image(entry("\"F32\"", "[-1]", "[0, 8]"), 8), "non-negative");
  ExpectError(Image(entry("\"F32\"", "[1.5]", "[0, 8]"), 8), "non-negative");
  ExpectError(Image(entry("\"F32\"", "2", "[0, 8]"), 8), "shape");
  ExpectError(Image(entry("\"F32\"", "[2]", "[0]"), 8), "data_offsets");
  ExpectError(Image(entry("\"F32\"", "[2]", "[0, -8]"), 8), "non-negative");
  ExpectError(Image(entry("\"F32\"", "[2]", "[0, 1000]"), 8), "outside the data area");
  ExpectError(Image(entry("\"F32\"", "[2]", "[8, 0]"), 8), "outside the data area");
  ExpectError(Image(entry("\"F32\"", "[3]", "[0, 8]"), 8), "needs 12 bytes");
  ExpectError(Image(entry("\"F32\"", "[4611686018427387904, 4611686018427387904]", "[0, 8]"), 8),
              "overflows");
  ExpectError(Image(entry("\"F32\"", "[4611686018427387904]", "[0, 8]"), 8), "overflows");
  ExpectError(Image(entry("\"F32\"", "[4294967296, 4294967296]", "[0, 8]"), 8), "overflows");
  ExpectError(Image(entry("\"F32\"", "[2]", "[0, 18446744073709551615]"), 8), "outside");
  ExpectError(Image("{\"t\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "dtype");
  ExpectError(Image("{\"t\": 7}", 0), "not a JSON object");
}

TEST(SafetensorsTest, RejectsOverlapsHolesAndTrailingBytes) {
  const std::string a = "\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": ";
  const std::string b = "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": ";
  ExpectError(Image("{" + a + "[0, 8]}, " + b + "[4, 12]}}", 12), "overlaps");
  ExpectError(Image("{" + a + "[0, 8]}, " + b + "[0, 8]}}", 8), "overlaps");
  ExpectError(Image("{" + a + "[0, 8]}, " + b + "[12, 20]}}", 20), "unindexed bytes");
  ExpectError(Image("{" + a + "[0, 8]}}", 9), "trailing bytes");
  Result<SafetensorsContents> ok = Parse(Image("{" + a + "[8, 16]}, " + b + "[0, 8]}}", 16));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(SafetensorsTest, ZeroSizeTensorsAndEmptyHeader) {
  Result<SafetensorsContents> empty = Parse(Image("{}", 0));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  const std::string header =
      "{\"z\": {\"dtype\": \"F32\", \"shape\": [0, 3], \"data_offsets\": [0, 0]}, "
      "\"s\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}";
  Result<SafetensorsContents> result = Parse(Image(header, 4));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
}

// Random corruption either fails with an error naming the file or yields
// tensors that still tile the data area (Parse checks both); a cut image
// always fails. Flips inside the data area change values only, so at least
// those parse; flips in the header mostly fail.
TEST(SafetensorsTest, RandomCorruptionFailsCleanlyOrParsesConsistently) {
  const std::string image = SmallImage();
  const size_t data_start = 8 + testing::ReadLe(image, 0, 8);
  std::mt19937 random(1234);
  int accepted = 0, refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string corrupt = image;
    const int flips = 1 + static_cast<int>(random() % 4);
    bool header_touched = false;
    for (int flip = 0; flip < flips; ++flip) {
      const size_t at = random() % corrupt.size();
      const char value = static_cast<char>(random());
      header_touched = header_touched || (at < data_start && corrupt[at] != value);
      corrupt[at] = value;
    }
    Result<SafetensorsContents> parsed = Parse(corrupt);
    if (!header_touched) {
      EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    }
    (parsed.ok() ? accepted : refused) += 1;
    if (header_touched) continue;
    // A cut of an image whose header is intact loses tensor bytes: refused.
    const size_t cut = random() % corrupt.size();
    Result<SafetensorsContents> truncated = Parse(corrupt.substr(0, cut));
    EXPECT_FALSE(truncated.ok()) << "cut at " << cut;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

TEST(SafetensorsTest, FixtureSurvivesRandomCuts) {
  Result<std::string> fixture =
      ReadFile("tests/data/fixtures/tiny-bert-model-safetensors/model.safetensors");
  ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
  ASSERT_TRUE(Parse(*fixture).ok());
  std::mt19937 random(5);
  for (int trial = 0; trial < 300; ++trial) {
    EXPECT_FALSE(Parse(fixture->substr(0, random() % fixture->size())).ok());
  }
  for (size_t cut = 1; cut <= 64; ++cut) {
    EXPECT_FALSE(Parse(fixture->substr(0, fixture->size() - cut)).ok()) << cut;
  }
}

TEST(SafetensorsWriterTest, RejectsBadTensors) {
  const std::vector<float> values = {1, 2};
  EXPECT_FALSE(SerializeSafetensors({{"a", DType::kF32, {2}, values.data(), {}},
                                     {"a", DType::kF32, {2}, values.data(), {}}},
                                    {})
                   .ok());
  EXPECT_FALSE(
      SerializeSafetensors({{"__metadata__", DType::kF32, {2}, values.data(), {}}}, {}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"i", DType::kI64, {2}, values.data(), {}}}, {}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"r", DType::kI64, {2}, nullptr, "short"}}, {}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"n", DType::kF32, {-2}, values.data(), {}}}, {}).ok());
}

TEST(SafetensorsWriterTest, HeaderIsPaddedToEightBytes) {
  const std::string image = SmallImage();
  EXPECT_EQ(testing::ReadLe(image, 0, 8) % 8, 0u);
}

}  // namespace
}  // namespace mg::model
