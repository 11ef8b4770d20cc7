// Operators: what each makes of a value, key handling, and the round trips
// (encrypt then decrypt restores the text exactly; pseudonyms are stable
// within a key and differ across keys; hashes differ across keys).
#include "privacy/anonymizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "privacy/checksums.h"
#include "privacy/test_support.h"

namespace mg::privacy {
namespace {

PrivacyKey Key(uint8_t fill) {
  KeyBytes bytes;
  bytes.fill(fill);
  return PrivacyKey::FromBytes(bytes);
}

std::unique_ptr<Anonymizer> Make(Operator op, std::optional<PrivacyKey> key = Key(1)) {
  OperatorOptions options;
  options.op = op;
  auto anonymizer = Anonymizer::Create(options, key);
  EXPECT_TRUE(anonymizer.ok()) << anonymizer.status().ToString();
  return std::move(anonymizer).value();
}

std::string RedactAll(const Anonymizer& anonymizer, const std::string& text) {
  static const auto analyzer = testing::MakeAnalyzer();
  auto scratch = analyzer->NewScratch();
  return anonymizer.Apply(text, *analyzer->Analyze(text, scratch->get()));
}

const std::string kSample =
    "Mail john@example.com, call +1 (415) 555-2671, card 4111 1111 1111 1111, IBAN "
    "GB82 WEST 1234 5698 7654 32, SSN 460-89-9847, 身份证 11010519491231002X, "
    "USCC 91350100M000100Y43, host 192.168.7.7 / 2001:db8::8a2e:370:7334, "
    "https://example.org/a?b=c, DOB: 12/03/1985, token ghp_abcdefghijklmnopqrstuvwxyz0123456789";

TEST(Operators, RedactReplaceMask) {
  EXPECT_EQ(RedactAll(*Make(Operator::kRedact, std::nullopt), "to john@example.com."), "to .");
  EXPECT_EQ(RedactAll(*Make(Operator::kReplace, std::nullopt), "to john@example.com."),
            "to <EMAIL_ADDRESS>.");
  EXPECT_EQ(RedactAll(*Make(Operator::kMask, std::nullopt), "card 4111111111111111"),
            "card ************1111");
  OperatorOptions options;
  options.op = Operator::kMask;
  options.mask_char = U'＊';
  options.mask_keep_last = 2;
  auto wide = Anonymizer::Create(options, std::nullopt);
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ((*wide)->Transform(EntityType::kPhoneNumber, "电话12"), "＊＊12");
}

TEST(Operators, KeyedOperatorsNeedAKey) {
  for (Operator op : {Operator::kHash, Operator::kPseudonymize, Operator::kEncrypt}) {
    OperatorOptions options;
    options.op = op;
    EXPECT_FALSE(Anonymizer::Create(options, std::nullopt).ok());
  }
  EXPECT_FALSE(ParseOperator("scramble").ok());
  EXPECT_EQ(*ParseOperator("pseudonymize"), Operator::kPseudonymize);
}

TEST(Hash, KeyedStableAndDifferentAcrossKeys) {
  const auto a = Make(Operator::kHash, Key(1));
  const auto b = Make(Operator::kHash, Key(2));
  const std::string value = "john@example.com";
  EXPECT_EQ(a->Transform(EntityType::kEmailAddress, value).size(), 64u);
  EXPECT_EQ(a->Transform(EntityType::kEmailAddress, value),
            a->Transform(EntityType::kEmailAddress, value));
  EXPECT_NE(a->Transform(EntityType::kEmailAddress, value),
            b->Transform(EntityType::kEmailAddress, value));
  // Not a bare SHA-256 of the value.
  EXPECT_NE(a->Transform(EntityType::kEmailAddress, value),
            "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f");
  // Full-width and invisible characters hash like the plain value.
  EXPECT_EQ(a->Transform(EntityType::kEmailAddress, "ｊohn@exa\u200Bmple.com"),
            a->Transform(EntityType::kEmailAddress, value));
}

TEST(Pseudonymize, StableWithinAKeyDifferentAcrossKeys) {
  const auto a = Make(Operator::kPseudonymize, Key(1));
  const auto a_again = Make(Operator::kPseudonymize, Key(1));
  const auto b = Make(Operator::kPseudonymize, Key(2));
  const std::string first = RedactAll(*a, kSample);
  EXPECT_EQ(first, RedactAll(*a_again, kSample));
  EXPECT_NE(first, RedactAll(*b, kSample));
  EXPECT_EQ(first.find("john@example.com"), std::string::npos);
  EXPECT_EQ(first.find("4111 1111 1111 1111"), std::string::npos);
}

TEST(Pseudonymize, FakesKeepTheirTypeAndFormat) {
  const auto p = Make(Operator::kPseudonymize);
  const std::string email = p->Transform(EntityType::kEmailAddress, "john@example.com");
  EXPECT_TRUE(email.starts_with("user-") && email.ends_with("@example.com")) << email;
  const std::string card = p->Transform(EntityType::kCreditCard, "4111 1111 1111 1111");
  EXPECT_EQ(card.size(), 19u);
  EXPECT_EQ(card[0], '4');
  EXPECT_EQ(card[4], ' ');
  EXPECT_TRUE(LuhnValid(testing::Detect(card).empty()
                            ? "0"
                            : card.substr(0, 4) + card.substr(5, 4) + card.substr(10, 4) +
                                  card.substr(15, 4)));
  const std::string iban = p->Transform(EntityType::kIbanCode, "GB82WEST12345698765432");
  EXPECT_TRUE(iban.starts_with("GB"));
  EXPECT_TRUE(IbanValid(iban)) << iban;
  const std::string id = p->Transform(EntityType::kCnResidentId, "11010519491231002X");
  EXPECT_EQ(testing::Detect(id), testing::One("CN_RESIDENT_ID", id));
  const std::string uscc = p->Transform(EntityType::kCnUscc, "91350100M000100Y43");
  EXPECT_EQ(Gb32100CheckChar(uscc.substr(0, 17)), uscc[17]);
  const std::string phone = p->Transform(EntityType::kPhoneNumber, "+1 (415) 555-2671");
  EXPECT_EQ(phone.size(), 17u);
  EXPECT_TRUE(phone.starts_with("+1 ("));
  EXPECT_EQ(phone[8], ' ');
  const std::string mobile = p->Transform(EntityType::kPhoneNumber, "13812345678");
  EXPECT_EQ(testing::Detect(mobile), testing::One("PHONE_NUMBER", mobile));
  const std::string ssn = p->Transform(EntityType::kUsSsn, "460-89-9847");
  EXPECT_EQ(testing::Detect("SSN " + ssn), testing::One("US_SSN", ssn));
  const std::string ip = p->Transform(EntityType::kIpAddress, "192.168.7.7");
  EXPECT_TRUE(ip.starts_with("10.")) << ip;
  const std::string date = p->Transform(EntityType::kDateTime, "March 3, 1985");
  EXPECT_EQ(testing::Detect("born " + date), testing::One("DATE_TIME", date));
  const std::string secret =
      p->Transform(EntityType::kSecret, "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
  EXPECT_TRUE(secret.starts_with("ghp_"));
  EXPECT_EQ(secret.size(), 40u);
}

TEST(Encrypt, RoundTripRestoresTheTextExactly) {
  const auto cipher = Make(Operator::kEncrypt, Key(7));
  const std::string text = kSample + " \xFF\xFE raw bytes 中文 john@example.com again";
  const std::string sealed = RedactAll(*cipher, text);
  EXPECT_EQ(sealed.find("john@example.com"), std::string::npos);
  EXPECT_NE(sealed.find("<ENC:"), std::string::npos);
  size_t tokens = 0;
  const Result<std::string> restored = cipher->Decrypt(sealed, &tokens);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(*restored, text);
  EXPECT_GE(tokens, 12u);
  // Deterministic: the same value gives the same token.
  EXPECT_EQ(cipher->Transform(EntityType::kEmailAddress, "a@b.co"),
            cipher->Transform(EntityType::kEmailAddress, "a@b.co"));
}

TEST(Encrypt, WrongKeyOrDamagedTokenFails) {
  const std::string sealed = Make(Operator::kEncrypt, Key(7))->Transform(EntityType::kUrl, "x");
  size_t tokens = 0;
  EXPECT_FALSE(Make(Operator::kEncrypt, Key(8))->Decrypt(sealed, &tokens).ok());
  std::string damaged = sealed;
  damaged[10] = damaged[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Make(Operator::kEncrypt, Key(7))->Decrypt(damaged, &tokens).ok());
  // Text that merely looks like the start of a token is left alone.
  EXPECT_EQ(*Make(Operator::kEncrypt, Key(7))->Decrypt("a <ENC: b", &tokens), "a <ENC: b");
}

TEST(Keys, FilesAndEnvironment) {
  const std::string dir = ::testing::TempDir();
  const std::string hex = std::string(64, 'a');
  {
    std::ofstream(dir + "/hex.key") << hex << "\n";
    std::ofstream(dir + "/raw.key") << std::string(32, '\xAA');
    std::ofstream(dir + "/bad.key") << "secret-but-wrong";
  }
  const auto from_hex = PrivacyKey::FromFile(dir + "/hex.key");
  const auto from_raw = PrivacyKey::FromFile(dir + "/raw.key");
  ASSERT_TRUE(from_hex.ok());
  ASSERT_TRUE(from_raw.ok());
  EXPECT_EQ(from_hex->Derive(KeyPurpose::kHash), from_raw->Derive(KeyPurpose::kHash));
  EXPECT_NE(from_hex->Derive(KeyPurpose::kHash), from_hex->Derive(KeyPurpose::kCipher));
  const auto bad = PrivacyKey::FromFile(dir + "/bad.key");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("secret-but-wrong"), std::string::npos);
  EXPECT_FALSE(PrivacyKey::FromFile(dir + "/missing.key").ok());
  ::setenv(kPrivacyKeyEnv, hex.c_str(), 1);
  EXPECT_TRUE(PrivacyKey::FromEnvironment().ok());
  ::setenv(kPrivacyKeyEnv, "xyz", 1);
  EXPECT_FALSE(PrivacyKey::FromEnvironment().ok());
  ::unsetenv(kPrivacyKeyEnv);
  EXPECT_EQ(PrivacyKey::FromEnvironment().status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace mg::privacy
