// Safetensors headers nested too deeply to handle safely are refused with a
// clear error (nlohmann::json's dump and copies recurse per level).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/model_io_test_util.h"
#include "model/safetensors.h"

namespace mg::model {
namespace {

std::string Image(const std::string& header) {
  std::string image(8, '\0');
  testing::PatchLe(&image, 0, header.size(), 8);
  return image + header;
}

Status ParseStatus(const std::string& image) {
  const std::vector<uint8_t> copy(image.begin(), image.end());
  return ParseSafetensors(copy.data(), copy.size(), "deep.safetensors").status();
}

TEST(SafetensorsDepthTest, RefusesAMegabyteOfOpenBrackets) {
  const Status status = ParseStatus(Image(std::string(1 << 20, '[')));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("deep.safetensors"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("nests deeper than"), std::string::npos) << status.message();
}

TEST(SafetensorsDepthTest, RefusesADeepShapeWithoutEchoingIt) {
  // Valid JSON, so only the depth check stands between it and the error
  // paths that used to print the shape back.
  const int depth = 1 << 20;
  const std::string shape = std::string(depth, '[') + std::string(depth, ']');
  const Status status = ParseStatus(
      Image(R"({"t": {"dtype": "F32", "shape": )" + shape + R"(, "data_offsets": [0, 0]}})"));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nests deeper than"), std::string::npos);
  EXPECT_LT(status.message().size(), 200u) << status.message().substr(0, 200);
}

TEST(SafetensorsDepthTest, ErrorsShowParsedNumbersNotTheHeader) {
  const Status status =
      ParseStatus(Image(R"({"t": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 4]}})") +
                  std::string(4, '\0'));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("shape [2, 3] of F32 needs 24 bytes"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace mg::model
