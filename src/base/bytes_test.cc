// Encodings and hashes against published vectors (FIPS 180-2, RFC 4648,
// RFC 7693) and Python's hashlib for the rest.
#include "base/bytes.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace mg {
namespace {

TEST(BytesTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The same digest given in uneven pieces.
  const std::string thousand(1000, 'a');
  Sha256 hash;
  for (size_t at = 0; at < thousand.size(); at += 7)
    hash.Update(std::string_view(thousand).substr(at, 7));
  EXPECT_EQ(hash.FinishHex(), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  EXPECT_EQ(Sha256Hex(thousand),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(BytesTest, Blake2bMatchesKnownVector) {
  EXPECT_EQ(HexEncode(Blake2b256("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(BytesTest, HexRoundTripsAndRefusesBadDigits) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(*HexDecode("0001abff"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(*HexDecode("ABFF"), "\xab\xff");
  EXPECT_EQ(*HexDecode(""), "");
  for (const char* bad : {"0", "abc", "zz", "0g", "00 ", " 00", "0x00", "00-11"}) {
    EXPECT_FALSE(HexDecode(bad).has_value()) << bad;
  }
}

TEST(BytesTest, Base64MatchesRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(*Base64Decode(encoded), plain);
    std::string unpadded(encoded);
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(Base64Encode(plain, Base64Variant::kUrlSafeNoPadding), unpadded);
    EXPECT_EQ(*Base64Decode(unpadded, Base64Variant::kUrlSafeNoPadding), plain);
  }
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(Base64Encode("\xfb\xff", Base64Variant::kUrlSafeNoPadding), "-_8");
  EXPECT_EQ(*Base64Decode("-_8", Base64Variant::kUrlSafeNoPadding), "\xfb\xff");
}

TEST(BytesTest, Base64RefusesAllButTheCanonicalForm) {
  for (const char* bad : {"Zg", "Zg=", "Zh==", "Zm9v\n", " Zm9v", "Zm9v=", "Z", "-_8=", "Zm9*"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
  for (const char* bad : {"Zg==", "Zh", "+/8", "Z", "Zm9v ", "Zm9vY"}) {
    EXPECT_FALSE(Base64Decode(bad, Base64Variant::kUrlSafeNoPadding).ok()) << bad;
  }
  EXPECT_EQ(Base64Decode("Zh==").status().code(), StatusCode::kCorruption);
}

TEST(BytesTest, SodiumInitialisesOnceFromAnyThread) {
  EnsureSodium();
  EnsureSodium();
  EXPECT_EQ(sodium_init(), 1);  // 1: already initialised
}

}  // namespace
}  // namespace mg
