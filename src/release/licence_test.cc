#include "release/licence.h"

#include <gtest/gtest.h>

#include "base/time.h"
#include "release/signature.h"

namespace mg::release {
namespace {

using std::chrono::sys_days;
using std::chrono::sys_seconds;
using namespace std::chrono_literals;

sys_seconds At(std::chrono::year_month_day day, std::chrono::seconds time = 0s) {
  return sys_seconds(sys_days(day)) + time;
}

class LicenceTest : public ::testing::Test {
 protected:
  LicenceTest()
      : vendor_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)),
        other_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)) {}

  Licence Terms() const {
    Licence licence;
    licence.licensee = "Acme Bank";
    licence.model_id = "intent-v3";
    licence.not_before = "2026-01-01";
    licence.expires = "2026-12-31";
    licence.features = {"classify", "embed"};
    licence.max_requests = 1000000;
    return licence;
  }

  std::string Issue(const Licence& licence, const SigningKey& key) const {
    Result<std::string> text = IssueLicence(licence, key, At(2025y / 12 / 1));
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : std::string();
  }

  LicenceRequirements Need(sys_seconds now, std::string feature = "classify") const {
    return {"intent-v3", now, std::move(feature)};
  }

  SigningKey vendor_;
  SigningKey other_;
};

TEST_F(LicenceTest, IssueAndVerifyRoundTrip) {
  const std::string text = Issue(Terms(), vendor_);
  Result<Licence> licence = VerifyLicence(text, vendor_.public_key(), Need(At(2026y / 6 / 1)));
  ASSERT_TRUE(licence.ok()) << licence.status().ToString();
  EXPECT_EQ(licence->licensee, "Acme Bank");
  EXPECT_EQ(licence->model_id, "intent-v3");
  EXPECT_EQ(licence->version, kLicenceVersion);
  EXPECT_EQ(licence->issued_at, "2025-12-01T00:00:00Z");
  EXPECT_EQ(licence->vendor_key_id, vendor_.key_id());
  EXPECT_EQ(licence->licence_id.size(), 32u);
  EXPECT_EQ(*licence->max_requests, 1000000u);
  EXPECT_FALSE(licence->max_tokens_per_day.has_value());
}

TEST_F(LicenceTest, ValidityWindowUsesTheInjectedClock) {
  const std::string text = Issue(Terms(), vendor_);
  const VerifyKey& pub = vendor_.public_key();
  EXPECT_TRUE(VerifyLicence(text, pub, Need(At(2026y / 1 / 1))).ok());
  EXPECT_TRUE(VerifyLicence(text, pub, Need(At(2026y / 12 / 31, 86399s))).ok());
  Result<Licence> early = VerifyLicence(text, pub, Need(At(2025y / 12 / 31, 86399s)));
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("not valid before 2026-01-01"), std::string::npos);
  Result<Licence> late = VerifyLicence(text, pub, Need(At(2027y / 1 / 1)));
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find("expired on 2026-12-31"), std::string::npos);
}

TEST_F(LicenceTest, OtherModelAndMissingFeatureAreRejected) {
  const std::string text = Issue(Terms(), vendor_);
  LicenceRequirements need = Need(At(2026y / 6 / 1));
  need.model_id = "intent-v4";
  Result<Licence> other_model = VerifyLicence(text, vendor_.public_key(), need);
  ASSERT_FALSE(other_model.ok());
  EXPECT_NE(other_model.status().message().find("intent-v3"), std::string::npos);
  Result<Licence> feature =
      VerifyLicence(text, vendor_.public_key(), Need(At(2026y / 6 / 1), "recommend"));
  ASSERT_FALSE(feature.ok());
  EXPECT_NE(feature.status().message().find("recommend"), std::string::npos);
}

TEST_F(LicenceTest, WrongKeyIsRejected) {
  const std::string text = Issue(Terms(), other_);
  Result<Licence> licence = VerifyLicence(text, vendor_.public_key(), Need(At(2026y / 6 / 1)));
  ASSERT_FALSE(licence.ok());
  EXPECT_NE(licence.status().message().find("another key"), std::string::npos);
}

TEST_F(LicenceTest, EveryBitFlipIsRejected) {
  const std::string text = Issue(Terms(), vendor_);
  const VerifyKey& pub = vendor_.public_key();
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = text;
      bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
      EXPECT_FALSE(VerifyLicenceSignature(bad, pub).ok()) << "byte " << pos << " bit " << bit;
    }
  }
}

TEST_F(LicenceTest, TruncatedLicencesAreRejected) {
  const std::string text = Issue(Terms(), vendor_);
  for (size_t size = 0; size + 1 < text.size(); ++size) {
    EXPECT_FALSE(VerifyLicenceSignature(text.substr(0, size), vendor_.public_key()).ok()) << size;
  }
}

TEST_F(LicenceTest, UnknownOrDowngradedVersionIsRejectedEvenWhenSigned) {
  for (const char* version : {"0", "2"}) {
    std::string payload =
        "{\"expires\":\"2026-12-31\",\"features\":[\"classify\"],\"issued_at\":\"2025-12-01T00:00:"
        "00Z\",\"licence_id\":\"00\",\"licensee\":\"A\",\"limits\":{},\"model_id\":\"intent-v3\","
        "\"not_before\":\"2026-01-01\",\"vendor_key_id\":\"" +
        vendor_.key_id() + "\",\"version\":" + version + "}";
    const std::string text = MakeSignatureFile(vendor_, kLicenceType, payload, true);
    Result<Licence> licence = VerifyLicenceSignature(text, vendor_.public_key());
    ASSERT_FALSE(licence.ok()) << version;
    EXPECT_NE(licence.status().message().find("version"), std::string::npos);
  }
}

// Well signed, but malformed: a licence id that is not 32 hex digits, and a
// limit of 0 (absent means none; 0 is refused rather than guessed at).
TEST_F(LicenceTest, MalformedIdsAndZeroLimitsAreRejectedEvenWhenSigned) {
  auto payload = [&](const std::string& id, const std::string& limits) {
    return "{\"expires\":\"2026-12-31\",\"features\":[\"classify\"],\"issued_at\":\"2025-12-01T00:"
           "00:00Z\",\"licence_id\":\"" +
           id + "\",\"licensee\":\"A\",\"limits\":" + limits +
           ",\"model_id\":\"intent-v3\",\"not_before\":\"2026-01-01\",\"vendor_key_id\":\"" +
           vendor_.key_id() + "\",\"version\":1}";
  };
  const std::string good_id(32, 'a');
  auto verify = [&](const std::string& text) {
    return VerifyLicenceSignature(MakeSignatureFile(vendor_, kLicenceType, text, true),
                                  vendor_.public_key());
  };
  ASSERT_TRUE(verify(payload(good_id, "{\"max_requests\":5}")).ok());
  for (const std::string& id : {std::string("00"), std::string(32, 'G'), std::string(33, 'a'),
                                std::string("x'); DROP TABLE licence_state; --")}) {
    Result<Licence> licence = verify(payload(id, "{}"));
    ASSERT_FALSE(licence.ok()) << id;
    EXPECT_NE(licence.status().message().find("licence id"), std::string::npos);
  }
  for (const char* limits : {"{\"max_requests\":0}", "{\"max_tokens_per_day\":0}"}) {
    Result<Licence> licence = verify(payload(good_id, limits));
    ASSERT_FALSE(licence.ok()) << limits;
    EXPECT_NE(licence.status().message().find("is 0"), std::string::npos);
  }
}

TEST_F(LicenceTest, InvalidTermsAreRefusedAtIssue) {
  Licence licence = Terms();
  licence.expires = "2025-12-31";
  EXPECT_FALSE(IssueLicence(licence, vendor_, At(2025y / 1 / 1)).ok());
  licence = Terms();
  licence.expires = "2026-02-30";
  EXPECT_FALSE(IssueLicence(licence, vendor_, At(2025y / 1 / 1)).ok());
  licence = Terms();
  licence.licensee.clear();
  EXPECT_FALSE(IssueLicence(licence, vendor_, At(2025y / 1 / 1)).ok());
  licence = Terms();
  licence.features.push_back("output:lable");
  const auto bad_output = IssueLicence(licence, vendor_, At(2025y / 1 / 1));
  ASSERT_FALSE(bad_output.ok());
  EXPECT_NE(bad_output.status().message().find("output:lable"), std::string::npos);
}

// An "output:..." feature is a feature like any other: signed, and read back.
TEST_F(LicenceTest, OutputPolicyFeaturesRoundTrip) {
  Licence terms = Terms();
  terms.features.push_back("output:scores:2");
  terms.features.push_back("output:embed-dims:64");
  Result<Licence> licence =
      VerifyLicence(Issue(terms, vendor_), vendor_.public_key(), Need(At(2026y / 6 / 1)));
  ASSERT_TRUE(licence.ok()) << licence.status().ToString();
  EXPECT_EQ(licence->features, terms.features);
}

TEST(DateTest, ParsesStrictDates) {
  EXPECT_EQ(*ParseDate("1970-01-02"), 1);
  EXPECT_FALSE(ParseDate("2026-1-01").ok());
  EXPECT_FALSE(ParseDate("2026-13-01").ok());
  EXPECT_FALSE(ParseDate("2026-01-01 ").ok());
  EXPECT_EQ(FormatUtcDateTime(At(2026y / 3 / 4, 3723s)), "2026-03-04T01:02:03Z");
}

}  // namespace
}  // namespace mg::release
