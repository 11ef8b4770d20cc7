#include "text/unicode.h"

#include <gtest/gtest.h>

#include <string>

namespace mg::text {
namespace {

char32_t Decode(const std::string& bytes, size_t* length) {
  return DecodeUtf8(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), length);
}

TEST(Utf8Test, DecodesWellFormedSequences) {
  size_t length = 0;
  EXPECT_EQ(Decode("A", &length), U'A');
  EXPECT_EQ(length, 1u);
  EXPECT_EQ(Decode("\xC3\xA9", &length), U'é');
  EXPECT_EQ(length, 2u);
  EXPECT_EQ(Decode("\xE4\xB8\xAD", &length), U'中');
  EXPECT_EQ(length, 3u);
  EXPECT_EQ(Decode("\xF0\x9F\x98\x80", &length), U'😀');
  EXPECT_EQ(length, 4u);
}

TEST(Utf8Test, RejectsMalformedSequencesOneByteAtATime) {
  size_t length = 0;
  for (const std::string& bad :
       {std::string("\x80"), std::string("\xC3"), std::string("\xC0\xAF"),
        std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
        std::string("\xFF"), std::string("\xE4\xB8")}) {
    EXPECT_EQ(Decode(bad, &length), kInvalidCodePoint) << "bytes of length " << bad.size();
    EXPECT_EQ(length, 1u);
  }
}

TEST(Utf8Test, EncodeRoundTripsEveryScalarValue) {
  uint8_t buffer[4];
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    size_t n = EncodeUtf8(cp, buffer);
    size_t length = 0;
    ASSERT_EQ(DecodeUtf8(buffer, n, &length), cp);
    ASSERT_EQ(length, n);
  }
}

TEST(CharFlagsTest, ClassesFollowUnicode) {
  EXPECT_TRUE(CharFlags(' ') & kWhitespace);
  EXPECT_TRUE(CharFlags('\t') & kWhitespace);
  EXPECT_FALSE(CharFlags('\t') & kControl);
  EXPECT_TRUE(CharFlags(0x3000) & kWhitespace);  // ideographic space
  EXPECT_TRUE(CharFlags(0x00A0) & kWhitespace);  // no-break space
  EXPECT_TRUE(CharFlags(0) & kControl);
  EXPECT_TRUE(CharFlags(0x200B) & kControl);  // zero-width space is a format char (Cf)
  EXPECT_TRUE(CharFlags(0xFFFD) & kControl);
  EXPECT_TRUE(CharFlags(0xE000) & kControl);       // private use
  EXPECT_TRUE(CharFlags('$') & kPunctuation);      // ASCII symbol counted as punctuation
  EXPECT_TRUE(CharFlags(0x3002) & kPunctuation);   // ideographic full stop
  EXPECT_FALSE(CharFlags(0x20AC) & kPunctuation);  // euro sign is a symbol, not punctuation
  EXPECT_TRUE(CharFlags(U'中') & kChinese);
  EXPECT_FALSE(CharFlags(0x3042) & kChinese);  // hiragana
  EXPECT_TRUE(CharFlags(0x0301) & kNonspacingMark);
  EXPECT_TRUE(CharFlags(U'É') & kHasLowercase);
  EXPECT_TRUE(CharFlags(U'é') & kHasDecomposition);
  EXPECT_FALSE(CharFlags(0xFB01) & kHasDecomposition);  // ligature: compatibility only
}

TEST(CaseTest, LowerAndDecompose) {
  char32_t out[8];
  ASSERT_EQ(ToLower(U'Ä', out), 1u);
  EXPECT_EQ(out[0], U'ä');
  ASSERT_EQ(ToLower(0x130, out), 2u);
  EXPECT_EQ(out[0], U'i');
  EXPECT_EQ(out[1], char32_t{0x307});
  ASSERT_EQ(Decompose(U'é', out), 2u);
  EXPECT_EQ(out[0], U'e');
  EXPECT_EQ(out[1], char32_t{0x301});
  ASSERT_EQ(Decompose(0xD55C, out), 3u);  // Hangul syllable HAN
  EXPECT_EQ(out[0], char32_t{0x1112});
}

}  // namespace
}  // namespace mg::text
