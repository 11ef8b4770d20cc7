#include "base/json_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace mg {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonLimitsTest, AcceptsNestingUpToTheLimit) {
  EXPECT_TRUE(CheckJsonDepth(Nested(kMaxJsonDepth)).ok());
  EXPECT_TRUE(CheckJsonDepth(R"({"a": [1, {"b": [2, 3]}], "c": {}})").ok());
  EXPECT_TRUE(CheckJsonDepth("").ok());
}

TEST(JsonLimitsTest, RefusesDeeperNesting) {
  const Status status = CheckJsonDepth(Nested(kMaxJsonDepth + 1));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("nests deeper than 64"), std::string::npos) << status.message();
  // Unbalanced input is refused as soon as it gets too deep.
  EXPECT_FALSE(CheckJsonDepth(std::string(1 << 20, '[')).ok());
  EXPECT_FALSE(CheckJsonDepth(std::string(100, '{')).ok());
  EXPECT_TRUE(CheckJsonDepth(Nested(3), 3).ok());
  EXPECT_FALSE(CheckJsonDepth(Nested(4), 3).ok());
}

TEST(JsonLimitsTest, IgnoresBracketsInsideStrings) {
  const std::string brackets(1000, '[');
  EXPECT_TRUE(CheckJsonDepth("{\"k\": \"" + brackets + "\"}").ok());
  // An escaped quote does not end the string.
  EXPECT_TRUE(CheckJsonDepth("[\"\\\"" + brackets + "\"]").ok());
  EXPECT_FALSE(CheckJsonDepth("[\"\\\\\"" + brackets + "\"]").ok());
}

TEST(JsonLimitsTest, SiblingsDoNotAddUp) {
  std::string siblings = "[";
  for (int i = 0; i < 1000; ++i) siblings += (i ? ",[[]]" : "[[]]");
  siblings += "]";
  EXPECT_TRUE(CheckJsonDepth(siblings, 3).ok());
}

}  // namespace
}  // namespace mg
