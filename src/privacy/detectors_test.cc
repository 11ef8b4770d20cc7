// Each pattern detector on positive examples and adversarial near misses.
#include "privacy/test_support.h"

namespace mg::privacy {
namespace {

using testing::Detect;
using testing::Found;
using testing::One;

TEST(Email, FindsAddresses) {
  EXPECT_EQ(Detect("write to john.doe+tag@mail.example.co.uk."),
            One("EMAIL_ADDRESS", "john.doe+tag@mail.example.co.uk"));
  EXPECT_EQ(Detect("<UtaKortig@jourrapide.com>"), One("EMAIL_ADDRESS", "UtaKortig@jourrapide.com"));
}

TEST(Email, RejectsNearMisses) {
  EXPECT_EQ(Detect("a@b"), Found{});
  EXPECT_EQ(Detect("user@localhost and @handle and x@y.z1"), Found{});
  EXPECT_EQ(Detect("a..b@example.com"), Found{});
  EXPECT_EQ(Detect("x@-bad.com"), Found{});
}

TEST(Phone, InternationalNorthAmericanAndChineseForms) {
  EXPECT_EQ(Detect("+44 20 7946 0958"), One("PHONE_NUMBER", "+44 20 7946 0958"));
  EXPECT_EQ(Detect("(415) 555-2671"), One("PHONE_NUMBER", "(415) 555-2671"));
  EXPECT_EQ(Detect("415-555-2671"), One("PHONE_NUMBER", "415-555-2671"));
  EXPECT_EQ(Detect("1-800-555-0199 x123"), One("PHONE_NUMBER", "1-800-555-0199 x123"));
  EXPECT_EQ(Detect("13812345678"), One("PHONE_NUMBER", "13812345678"));
  EXPECT_EQ(Detect("+86 138 1234 5678"), One("PHONE_NUMBER", "+86 138 1234 5678"));
  EXPECT_EQ(Detect("手机13912345678。"), One("PHONE_NUMBER", "13912345678"));
  EXPECT_EQ(Detect("1381 234 5678"), One("PHONE_NUMBER", "1381 234 5678"));
  EXPECT_EQ(Detect("138-1234 5678"), One("PHONE_NUMBER", "138-1234 5678"));
  EXPECT_EQ(Detect("1 3 8 1 2 3 4 5 6 7 8"), One("PHONE_NUMBER", "1 3 8 1 2 3 4 5 6 7 8"));
  EXPECT_EQ(Detect("1 2 8 1 2 3 4 5 6 7 8"), Found{});       // no such mobile prefix
  EXPECT_EQ(Detect("revenue 15 000 000 000 EUR"), Found{});  // thousands, not a mobile
}

TEST(Phone, ListsOfNumbersAreReadOneByOne) {
  const Found two = {{"PHONE_NUMBER", "13812345678"}, {"PHONE_NUMBER", "13912345678"}};
  EXPECT_EQ(Detect("13812345678 13912345678"), two);
  const Found mixed = {{"PHONE_NUMBER", "+44 20 7946 0958"}, {"PHONE_NUMBER", "(415) 555-2671"}};
  EXPECT_EQ(Detect("+44 20 7946 0958 (415) 555-2671"), mixed);
  EXPECT_EQ(Detect("1234 5678 9012 3456 7890"), Found{});  // no phone shape without context
}

TEST(Phone, OtherGroupingsNeedContext) {
  EXPECT_EQ(Detect("0490 75 40 81"), Found{});
  EXPECT_EQ(Detect("Phone: 0490 75 40 81"), One("PHONE_NUMBER", "0490 75 40 81"));
  EXPECT_EQ(Detect("电话：010-6552 9988"), One("PHONE_NUMBER", "010-6552 9988"));
  EXPECT_EQ(Detect("call me on 9472 7916?"), One("PHONE_NUMBER", "9472 7916"));
}

TEST(Phone, DatesSsnsAndIpsAreNotPhones) {
  EXPECT_EQ(Detect("call 2019-05-12 10"), Found{});
  EXPECT_EQ(Detect("tel 12/05/2019"), Found{});
  EXPECT_EQ(Detect("phone 10.20.30.40").size(), 1u);
  EXPECT_EQ(Detect("phone 10.20.30.40")[0].first, "IP_ADDRESS");
  EXPECT_EQ(Detect("order 4155552671"), Found{});
  EXPECT_EQ(Detect("12345"), Found{});
}

TEST(Card, LuhnValidNumbersInCommonLayouts) {
  EXPECT_EQ(Detect("4111111111111111"), One("CREDIT_CARD", "4111111111111111"));
  EXPECT_EQ(Detect("4111 1111 1111 1111"), One("CREDIT_CARD", "4111 1111 1111 1111"));
  EXPECT_EQ(Detect("3782-822463-10005"), One("CREDIT_CARD", "3782-822463-10005"));
  EXPECT_EQ(Detect("card 630427373398"), One("CREDIT_CARD", "630427373398"));  // Maestro 12
  EXPECT_EQ(Detect("4111 1111 1111 1111 123"), One("CREDIT_CARD", "4111 1111 1111 1111"));
  EXPECT_EQ(Detect("card 4111111111111111 12"), One("CREDIT_CARD", "4111111111111111"));
  EXPECT_EQ(Detect("4111-1111 1111-1111"), One("CREDIT_CARD", "4111-1111 1111-1111"));
  EXPECT_EQ(Detect("4111 1111-1111 1111"), One("CREDIT_CARD", "4111 1111-1111 1111"));
}

TEST(Card, RejectsNearMisses) {
  EXPECT_EQ(Detect("4111111111111112"), Found{});       // Luhn fails
  EXPECT_EQ(Detect("0000000000000000"), Found{});       // one digit repeated
  EXPECT_EQ(Detect("41111111111111110000"), Found{});   // 20 digits
  EXPECT_EQ(Detect("630427373398"), Found{});           // 12 digits without context
  EXPECT_EQ(Detect("ref A4111111111111111"), Found{});  // inside a word
  EXPECT_EQ(Detect("3.4111111111111111"), Found{});     // a decimal number
}

TEST(Iban, CompactSpacedAndLowerCase) {
  EXPECT_EQ(Detect("IBAN GB82 WEST 1234 5698 7654 32 ok"),
            One("IBAN_CODE", "GB82 WEST 1234 5698 7654 32"));
  EXPECT_EQ(Detect("DE89370400440532013000"), One("IBAN_CODE", "DE89370400440532013000"));
  EXPECT_EQ(Detect("my iban is gb42nawi04454264788619"),
            One("IBAN_CODE", "gb42nawi04454264788619"));
}

TEST(Iban, RejectsWrongCheckDigitsAndLengths) {
  EXPECT_EQ(Detect("GB83WEST12345698765432"), Found{});
  EXPECT_EQ(Detect("GB82WEST1234569876543"), Found{});
  EXPECT_EQ(Detect("GB82WEST123456987654321"), Found{});
}

TEST(Ip, Ipv4) {
  EXPECT_EQ(Detect("from 192.168.1.20."), One("IP_ADDRESS", "192.168.1.20"));
  EXPECT_EQ(Detect("client_ip = ?%//!%20\\|106.31.73.20|%20/"), One("IP_ADDRESS", "106.31.73.20"));
}

TEST(Ip, VersionNumbersAndBadOctetsAreNotAddresses) {
  EXPECT_EQ(Detect("1.2.3.4.5"), Found{});
  EXPECT_EQ(Detect("256.1.1.1"), Found{});
  EXPECT_EQ(Detect("01.02.03.04"), Found{});
  EXPECT_EQ(Detect("version 1.2.3.4"), Found{});
  EXPECT_EQ(Detect("v1.2.3.4"), Found{});
}

TEST(Ip, Ipv6) {
  EXPECT_EQ(Detect("6e40:4041:c617:e898:c11:40d2:c669:2eb4 blocked"),
            One("IP_ADDRESS", "6e40:4041:c617:e898:c11:40d2:c669:2eb4"));
  EXPECT_EQ(Detect("2001:db8:85a3::8a2e:370:7334"),
            One("IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"));
  EXPECT_EQ(Detect("::ffff:192.0.2.128"), One("IP_ADDRESS", "::ffff:192.0.2.128"));
  EXPECT_EQ(Detect("IP fe80::1"), One("IP_ADDRESS", "fe80::1"));
}

TEST(Ip, TimesMacsAndCodeAreNotIpv6) {
  EXPECT_EQ(Detect("at 12:30:45"), Found{});
  EXPECT_EQ(Detect("mac 00:1a:2b:3c:4d:5e"), Found{});
  EXPECT_EQ(Detect("std::vector<int>"), Found{});
  EXPECT_EQ(Detect("1:2:3:4:5:6:7:8:9"), Found{});
}

TEST(Url, SchemesAndWww) {
  EXPECT_EQ(Detect("see https://www.UEarly.se/ now"), One("URL", "https://www.UEarly.se/"));
  EXPECT_EQ(Detect("(http://a.example.com/x?q=1)."), One("URL", "http://a.example.com/x?q=1"));
  EXPECT_EQ(Detect("www.example.org, then"), One("URL", "www.example.org"));
  EXPECT_EQ(Detect("the www.x file"), Found{});
}

TEST(UsSsn, ValidNumbers) {
  EXPECT_EQ(Detect("SSN: 460-89-9847"), One("US_SSN", "460-89-9847"));
  EXPECT_EQ(Detect("078-05-1121"), One("US_SSN", "078-05-1121"));
  EXPECT_EQ(Detect("social security number 460 89 9847"), One("US_SSN", "460 89 9847"));
  EXPECT_EQ(Detect("ssn 460899847"), One("US_SSN", "460899847"));
}

TEST(UsSsn, InvalidAreaGroupSerialAndSamples) {
  for (const char* number :
       {"000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567", "123-45-0000",
        "111-11-1111", "123-45-6789", "078-05-1120"}) {
    EXPECT_EQ(Detect(std::string("SSN ") + number), Found{}) << number;
  }
  EXPECT_EQ(Detect("460899847"), Found{});  // compact needs context
}

TEST(Secrets, KnownFormats) {
  for (const char* secret :
       {"AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "xoxb-1234567890-abcdefghijkl", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "AIzaSyA-1234567890abcdefghijklmnopqrstu",
        "mg_0123456789abcdefghijABCDEFGHIJ0123456789xyz",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}) {
    EXPECT_EQ(Detect(std::string("key: ") + secret + " end"), One("SECRET", secret)) << secret;
  }
}

// A modelgate API key as src/store/api_key.cc issues it: "mg_" and the
// unpadded base64url of 32 random bytes (43 characters).
std::string ApiKey(uint64_t* state) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint8_t bytes[33] = {};
  for (size_t index = 0; index < 32; ++index) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    bytes[index] = static_cast<uint8_t>(*state >> 56);
  }
  std::string key = "mg_";
  for (size_t index = 0; index < 33; index += 3) {
    const uint32_t group = (bytes[index] << 16) | (bytes[index + 1] << 8) | bytes[index + 2];
    for (int shift = 18; shift >= 0 && key.size() < 46; shift -= 6) {
      key.push_back(kAlphabet[(group >> shift) & 63]);
    }
  }
  return key;
}

TEST(Secrets, EveryModelgateApiKey) {
  uint64_t state = 7;
  std::vector<std::string> keys;
  for (int count = 0; count < 300; ++count) keys.push_back(ApiKey(&state));
  // Dashes and underscores first, last and doubled: the detector does not
  // rely on the issued key's last character carrying only four bits.
  for (const char* body : {"-abcdefghijABCDEFGHIJ0123456789abcdefghijXY",
                           "_abcdefghijABCDEFGHIJ0123456789abcdefghijXY",
                           "abcdefghijABCDEFGHIJ0123456789abcdefghijXY-",
                           "abcdefghijABCDEFGHIJ0123456789abcdefghijXY_",
                           "--__defghijABCDEFGHIJ0123456789abcdefghij__"}) {
    keys.push_back(std::string("mg_") + body);
  }
  size_t with_dash = 0;
  size_t with_underscore = 0;
  for (const std::string& key : keys) {
    ASSERT_EQ(key.size(), 46u);
    with_dash += key.find('-') != std::string::npos ? 1 : 0;
    with_underscore += key.find('_', 3) != std::string::npos ? 1 : 0;
    EXPECT_EQ(Detect("Authorization: Bearer " + key + "\r\n"), One("SECRET", key));
    EXPECT_EQ(Detect("{\"api_key\":\"" + key + "\"}"), One("SECRET", key));
  }
  EXPECT_GT(with_dash, 100u);
  EXPECT_GT(with_underscore, 100u);
  // Not keys: a longer token, a snake_case name, a key glued to a word.
  EXPECT_EQ(Detect(keys.back() + "Q"), Found{});
  EXPECT_EQ(Detect("mg_load_the_model_weights_from_the_bundle_file"), Found{});
  EXPECT_EQ(Detect("x" + keys.back()), Found{});
}

TEST(Secrets, PrivateKeyBlock) {
  const std::string pem =
      "-----BEGIN RSA PRIVATE "
      "KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
      "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----";
  EXPECT_EQ(Detect("x\n" + pem + "\ny"), One("SECRET", pem));
}

TEST(Secrets, NearMisses) {
  EXPECT_EQ(Detect("ghp_tooshort123"), Found{});
  EXPECT_EQ(Detect("akiaiosfodnn7example"), Found{});
  EXPECT_EQ(Detect("mg_0123456789"), Found{});
  EXPECT_EQ(Detect("img_0123456789abcdefghijABCDEFGHIJ0123456789xyz"), Found{});
  EXPECT_EQ(Detect("eyJhbGciOiJIUzI1NiJ9 alone"), Found{});
  EXPECT_EQ(Detect("-----BEGIN PUBLIC KEY-----"), Found{});
}

TEST(DateOfBirth, NeedsBirthContext) {
  EXPECT_EQ(Detect("DOB: 1985-03-12"), One("DATE_TIME", "1985-03-12"));
  EXPECT_EQ(Detect("born on March 3rd, 1985."), One("DATE_TIME", "March 3rd, 1985"));
  EXPECT_EQ(Detect("date of birth 3 Mar 1985"), One("DATE_TIME", "3 Mar 1985"));
  EXPECT_EQ(Detect("出生日期：1985年3月12日"), One("DATE_TIME", "1985年3月12日"));
  EXPECT_EQ(Detect("birthday 2/8/1935"), One("DATE_TIME", "2/8/1935"));
  EXPECT_EQ(Detect("meeting on 1985-03-12"), Found{});
  EXPECT_EQ(Detect("born 1985-02-30"), Found{});  // no such day
}

}  // namespace
}  // namespace mg::privacy
