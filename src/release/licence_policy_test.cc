// LicencePolicy: features, the validity window at a fixed clock (UTC day
// boundaries), the model id, quotas and the rule for commands that run
// outside the server.
#include "release/licence_policy.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mg::release {
namespace {

// Seconds since the epoch at `hh:mm:ss` UTC on the day `date`.
std::chrono::sys_seconds At(const char* date, int hh, int mm, int ss) {
  return std::chrono::sys_seconds(
      std::chrono::seconds(*ParseDate(date) * 86400 + hh * 3600 + mm * 60 + ss));
}

Licence MakeLicence() {
  Licence licence;
  licence.licence_id = "0123456789abcdef0123456789abcdef";
  licence.licensee = "Acme";
  licence.model_id = "spam-filter";
  licence.not_before = "2026-01-01";
  licence.expires = "2026-01-31";
  licence.features = {"embed", "recommend"};
  return licence;
}

bool Has(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

TEST(LicencePolicyTest, WithoutALicenceEverythingIsAllowedAndNothingCounted) {
  const LicencePolicy policy;
  EXPECT_EQ(policy.licence(), nullptr);
  EXPECT_FALSE(policy.quotas().has_value());
  for (LicenceFeature feature : {LicenceFeature::kNone, LicenceFeature::kClassify,
                                 LicenceFeature::kEmbed, LicenceFeature::kRecommend}) {
    EXPECT_TRUE(policy.Check(feature, At("1999-01-01", 0, 0, 0)).ok());
    EXPECT_TRUE(policy.CheckOutsideServer(feature, At("2999-01-01", 0, 0, 0)).ok());
  }
}

// Every "output:..." feature applies: the stricter of them per field.
TEST(LicencePolicyTest, OutputFeaturesGiveTheStricterPolicy) {
  EXPECT_TRUE(LicencePolicy().output_policy().full());
  EXPECT_TRUE(LicencePolicy("spam-filter", MakeLicence()).output_policy().full());
  Licence licence = MakeLicence();
  licence.features = {"embed", "output:scores:3", "output:embed-dims:64", "output:scores:2",
                      "output:embed-decimals:4"};
  EXPECT_EQ(ToString(LicencePolicy("spam-filter", licence).output_policy()),
            "scores:2,embed-dims:64,embed-decimals:4");
  licence.features = {"classify", "output:topk:2", "output:label"};
  EXPECT_EQ(ToString(LicencePolicy("spam-filter", licence).output_policy()), "label");
  // Not a feature a request asks for: granting "output:label" grants no route.
  EXPECT_FALSE(LicencePolicy("spam-filter", licence)
                   .Check(LicenceFeature::kEmbed, At("2026-01-15", 12, 0, 0))
                   .ok());
}

TEST(LicencePolicyTest, FeatureNamesAreThoseLicencesGrant) {
  EXPECT_EQ(LicenceFeatureName(LicenceFeature::kNone), "");
  EXPECT_EQ(LicenceFeatureName(LicenceFeature::kClassify), "classify");
  EXPECT_EQ(LicenceFeatureName(LicenceFeature::kEmbed), "embed");
  EXPECT_EQ(LicenceFeatureName(LicenceFeature::kRecommend), "recommend");
}

TEST(LicencePolicyTest, GrantsOnlyTheLicencesFeatures) {
  const LicencePolicy policy("spam-filter", MakeLicence());
  const auto noon = At("2026-01-15", 12, 0, 0);
  EXPECT_TRUE(policy.Check(LicenceFeature::kNone, noon).ok());
  EXPECT_TRUE(policy.Check(LicenceFeature::kEmbed, noon).ok());
  EXPECT_TRUE(policy.Check(LicenceFeature::kRecommend, noon).ok());
  const Status classify = policy.Check(LicenceFeature::kClassify, noon);
  EXPECT_FALSE(classify.ok());
  EXPECT_TRUE(Has(classify, "does not grant the \"classify\" feature")) << classify.message();
}

TEST(LicencePolicyTest, ValidFromTheFirstSecondOfNotBeforeToTheLastOfExpires) {
  const LicencePolicy policy("spam-filter", MakeLicence());
  const Status early = policy.Check(LicenceFeature::kEmbed, At("2025-12-31", 23, 59, 59));
  EXPECT_TRUE(Has(early, "not valid before 2026-01-01")) << early.message();
  EXPECT_TRUE(policy.Check(LicenceFeature::kEmbed, At("2026-01-01", 0, 0, 0)).ok());
  EXPECT_TRUE(policy.Check(LicenceFeature::kEmbed, At("2026-01-31", 23, 59, 59)).ok());
  const Status late = policy.Check(LicenceFeature::kEmbed, At("2026-02-01", 0, 0, 0));
  EXPECT_TRUE(Has(late, "expired on 2026-01-31")) << late.message();
  // Expiry comes before the feature: an expired licence says so.
  EXPECT_TRUE(Has(policy.Check(LicenceFeature::kClassify, At("2026-02-01", 0, 0, 0)), "expired"));
}

TEST(LicencePolicyTest, TheLicenceMustNameTheServedModel) {
  const LicencePolicy policy("other-model", MakeLicence());
  const Status status = policy.Check(LicenceFeature::kNone, At("2026-01-15", 12, 0, 0));
  EXPECT_TRUE(Has(status, "licence is for model \"spam-filter\", not \"other-model\""))
      << status.message();

  ServedModel served;
  served.model_id = "spam-filter";
  served.licence = MakeLicence();
  const LicencePolicy from_served = LicencePolicy::For(served);
  ASSERT_NE(from_served.licence(), nullptr);
  EXPECT_EQ(from_served.licence()->licensee, "Acme");
  EXPECT_TRUE(from_served.Check(LicenceFeature::kEmbed, At("2026-01-15", 12, 0, 0)).ok());
}

TEST(LicencePolicyTest, QuotasAreTheLicencesLimits) {
  EXPECT_FALSE(LicencePolicy("spam-filter", MakeLicence()).quotas().has_value());

  Licence both = MakeLicence();
  both.max_requests = 1000;
  both.max_tokens_per_day = 5'000'000;
  const LicencePolicy limited("spam-filter", both);
  ASSERT_TRUE(limited.quotas().has_value());
  EXPECT_EQ(limited.quotas()->licence_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(limited.quotas()->max_requests, 1000);
  EXPECT_EQ(limited.quotas()->max_tokens_per_day, 5'000'000);

  Licence tokens_only = MakeLicence();
  tokens_only.max_tokens_per_day = UINT64_MAX;
  const LicencePolicy huge("spam-filter", tokens_only);
  ASSERT_TRUE(huge.quotas().has_value());
  EXPECT_EQ(huge.quotas()->max_requests, 0);  // unlimited
  EXPECT_EQ(huge.quotas()->max_tokens_per_day, INT64_MAX);
}

TEST(LicencePolicyTest, CommandsOutsideTheServerRefuseQuotas) {
  const auto noon = At("2026-01-15", 12, 0, 0);
  EXPECT_TRUE(LicencePolicy("spam-filter", MakeLicence())
                  .CheckOutsideServer(LicenceFeature::kEmbed, noon)
                  .ok());
  Licence counted = MakeLicence();
  counted.max_requests = 10;
  const LicencePolicy policy("spam-filter", counted);
  EXPECT_TRUE(policy.Check(LicenceFeature::kEmbed, noon).ok());
  const Status outside = policy.CheckOutsideServer(LicenceFeature::kEmbed, noon);
  EXPECT_TRUE(Has(outside, "only `modelgate serve` counts")) << outside.message();
  // The terms still come first.
  EXPECT_TRUE(Has(policy.CheckOutsideServer(LicenceFeature::kClassify, noon), "does not grant"));
}

}  // namespace
}  // namespace mg::release
