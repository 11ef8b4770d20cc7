// The compact form against known policies, the printed form against known
// strings, and Stricter field by field.
#include "base/output_policy.h"

#include <gtest/gtest.h>

namespace mg {
namespace {

OutputPolicy Parse(std::string_view text) {
  auto policy = ParseOutputPolicy(text);
  EXPECT_TRUE(policy.ok()) << text << ": " << policy.status().message();
  return policy.ok() ? *policy : OutputPolicy{};
}

TEST(OutputPolicyTest, ParsesEachDirective) {
  EXPECT_TRUE(Parse("full").full());
  EXPECT_TRUE(Parse("").full());
  OutputPolicy label = Parse("label");
  EXPECT_EQ(label.top_k, 1);
  EXPECT_FALSE(label.scores);
  EXPECT_TRUE(label.embeddings);
  EXPECT_EQ(Parse("topk:2").top_k, 2);
  EXPECT_TRUE(Parse("topk:2").scores);
  EXPECT_FALSE(Parse("no-scores").scores);
  EXPECT_EQ(Parse("scores:2").score_decimals, 2);
  EXPECT_EQ(Parse("scores:0").score_decimals, 0);
  const OutputPolicy embed = Parse("embed-dims:128,embed-decimals:3");
  EXPECT_EQ(embed.embed_dims, 128);
  EXPECT_EQ(embed.embed_decimals, 3);
  EXPECT_FALSE(embed.restricts_scores());
  EXPECT_FALSE(Parse("no-embed").embeddings);
  // A directive given twice keeps its stricter value.
  EXPECT_EQ(Parse("scores:4,scores:2").score_decimals, 2);
}

TEST(OutputPolicyTest, RefusesBadTextWithTheDirectiveNamed) {
  for (const char* bad :
       {"lable", "topk", "topk:0", "topk:x", "scores:7", "scores:-1", "scores:2.5", "embed-dims:0",
        "label:1", "full,label", "scores:2,", ",label", "embed-decimals:", "no-embed:1"}) {
    auto policy = ParseOutputPolicy(bad);
    EXPECT_FALSE(policy.ok()) << bad;
    if (!policy.ok()) {
      EXPECT_NE(policy.status().message().find("output policy"), std::string::npos) << bad;
    }
  }
  EXPECT_NE(ParseOutputPolicy("topk:x").status().message().find("'topk:x'"), std::string::npos);
}

TEST(OutputPolicyTest, PrintsTheCanonicalForm) {
  EXPECT_EQ(ToString(OutputPolicy{}), "full");
  EXPECT_EQ(ToString(Parse("label")), "label");
  EXPECT_EQ(ToString(Parse("topk:1,no-scores")), "label");
  EXPECT_EQ(ToString(Parse("no-scores,topk:3")), "topk:3,no-scores");
  EXPECT_EQ(ToString(Parse("embed-decimals:3,embed-dims:128,scores:2")),
            "scores:2,embed-dims:128,embed-decimals:3");
  // Settings that withhold nothing more are dropped.
  EXPECT_EQ(ToString(Parse("no-scores,scores:2")), "no-scores");
  EXPECT_EQ(ToString(Parse("embed-dims:64,no-embed")), "no-embed");
  for (const char* text :
       {"full", "label", "topk:2", "topk:2,no-scores", "scores:3", "no-scores", "no-embed",
        "embed-dims:128,embed-decimals:3", "topk:5,scores:1,embed-decimals:0", "label,no-embed"}) {
    EXPECT_EQ(ToString(Parse(text)), text);
  }
}

TEST(OutputPolicyTest, StricterTakesTheTighterSideOfEachField) {
  const auto stricter = [](const char* a, const char* b) {
    const std::string ab = ToString(Stricter(Parse(a), Parse(b)));
    EXPECT_EQ(ab, ToString(Stricter(Parse(b), Parse(a)))) << a << " " << b;
    return ab;
  };
  EXPECT_EQ(stricter("full", "full"), "full");
  EXPECT_EQ(stricter("full", "scores:2"), "scores:2");
  EXPECT_EQ(stricter("scores:4", "scores:2"), "scores:2");
  EXPECT_EQ(stricter("topk:3", "topk:2"), "topk:2");
  EXPECT_EQ(stricter("topk:3", "scores:2"), "topk:3,scores:2");
  EXPECT_EQ(stricter("label", "topk:3"), "label");
  EXPECT_EQ(stricter("label", "scores:2"), "label");
  EXPECT_EQ(stricter("topk:2", "no-scores"), "topk:2,no-scores");
  EXPECT_EQ(stricter("embed-dims:128", "embed-dims:64,embed-decimals:2"),
            "embed-dims:64,embed-decimals:2");
  EXPECT_EQ(stricter("embed-dims:64", "no-embed"), "no-embed");
  EXPECT_EQ(stricter("label", "embed-decimals:3"), "label,embed-decimals:3");
}

TEST(OutputPolicyTest, RoundsToKnownDecimals) {
  EXPECT_EQ(RoundToDecimals(0.123456f, 2), 0.12f);
  EXPECT_EQ(RoundToDecimals(0.125001f, 2), 0.13f);
  EXPECT_EQ(RoundToDecimals(-0.987654f, 3), -0.988f);
  EXPECT_EQ(RoundToDecimals(2.5f, 0), 3.0f);
  EXPECT_EQ(RoundToDecimals(0.123456f, -1), 0.123456f);
}

}  // namespace
}  // namespace mg
