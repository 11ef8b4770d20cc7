#include "base/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mg {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonWriterTest, EscapesLikeAJsonParserExpects) {
  const std::string tricky = std::string("a\"b\\c\n\t\x01 é 中 😀") + std::string(1, '\0');
  std::string quoted = Quote(tricky);
  // An independent parser must read back exactly the input.
  EXPECT_EQ(nlohmann::json::parse(quoted).get<std::string>(), tricky);
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Quote("a\xff"
                  "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // encoded surrogate
  EXPECT_EQ(Quote("\xc3"), "\"\\ufffd\"");                        // truncated
}

TEST(JsonWriterTest, Numbers) {
  std::string out;
  AppendJsonInt(&out, -42);
  out.push_back(' ');
  AppendJsonFloat(&out, 0.1f);
  out.push_back(' ');
  AppendJsonFloat(&out, std::numeric_limits<float>::infinity());
  EXPECT_EQ(out, "-42 0.1 null");
}

}  // namespace
}  // namespace mg
