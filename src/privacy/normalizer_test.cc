// The detection view against its references: the BERT tokenizer's own
// normaliser (src/text) for what is removed, utf8proc for the Unicode
// properties, and the Analyzer and Anonymizer end to end for each class of
// character that can hide a value.
#include "privacy/normalizer.h"

#include <utf8proc.h>

#include <cctype>

#include "privacy/anonymizer.h"
#include "privacy/test_support.h"
#include "text/bert_normalizer.h"
#include "text/unicode.h"

namespace mg::privacy {
namespace {

using testing::Detect;
using testing::One;

std::string Utf8(char32_t cp) {
  uint8_t bytes[4];
  const size_t size = text::EncodeUtf8(cp, bytes);
  return std::string(reinterpret_cast<const char*>(bytes), size);
}

bool IsSurrogate(char32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

// `text` with every value replaced by its type, as the server's redact mode
// does before tokenisation.
std::string Replace(std::string_view text) {
  static const auto analyzer = testing::MakeAnalyzer();
  static const auto anonymizer = Anonymizer::Create({}, std::nullopt).value();
  auto scratch = analyzer->NewScratch().value();
  return anonymizer->Apply(text, analyzer->Analyze(text, scratch.get()).value());
}

TEST(Normalizer, RemovesAndFoldsWhatTheUncasedTokenizerDoes) {
  const text::BertNormalizer bert(text::BertNormalizerOptions{});
  size_t removed = 0;
  size_t ascii = 0;
  for (char32_t cp = 1; cp <= 0x10FFFF; ++cp) {
    if (IsSurrogate(cp)) continue;
    const std::string encoded = Utf8(cp);
    text::NormalizedText out;
    bert.Normalize(encoded, 0, encoded.size(), &out);
    if (cp >= 0x80 && out.text.size() == 1) {
      // What the tokenizer reads as one ASCII character (a space, an
      // accented letter), the detectors read as that character too.
      const int mapped = NormalizeCodePoint(cp);
      ASSERT_GT(mapped, 0) << std::hex << "U+" << static_cast<uint32_t>(cp);
      ASSERT_EQ(std::tolower(mapped), out.text[0]) << std::hex << "U+" << static_cast<uint32_t>(cp);
      ++ascii;
    }
    if (!out.text.empty()) continue;
    ++removed;
    ASSERT_EQ(NormalizeCodePoint(cp), 0) << std::hex << "U+" << static_cast<uint32_t>(cp);
  }
  EXPECT_GT(removed, 100000u);  // controls, format characters, marks, private use
  EXPECT_GT(ascii, 500u);
  EXPECT_EQ(NormalizeValue("a\xFF\xC3z\xEF\xBF\xBD"), "az");  // malformed bytes, U+FFFD
}

TEST(Normalizer, RemovesEveryDefaultIgnorableCodePoint) {
  size_t ignorable = 0;
  for (char32_t cp = 0x80; cp <= 0x10FFFF; ++cp) {
    if (IsSurrogate(cp) || !utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->ignorable) {
      continue;
    }
    ++ignorable;
    ASSERT_EQ(NormalizeCodePoint(cp), 0) << std::hex << "U+" << static_cast<uint32_t>(cp);
  }
  EXPECT_GT(ignorable, 300u);
  for (char32_t cp : {0x034F, 0xFE00, 0xFE0F, 0xE0100, 0xE01EF, 0xE0000, 0xE0001, 0xE0041, 0xE007F,
                      0x3164, 0x115F, 0x1160, 0xFFA0, 0x2065}) {
    EXPECT_EQ(NormalizeCodePoint(cp), 0) << std::hex << "U+" << static_cast<uint32_t>(cp);
  }
  EXPECT_EQ(NormalizeValue("4\x0B"
                           "1\x7F"
                           "1"),
            "411");  // ASCII controls other than \t \n \r
  EXPECT_EQ(NormalizeValue("a\tb\nc\rd"), "a\tb\nc\rd");
}

// The derivation of digit values: Unicode assigns decimal digits (Nd) only
// in runs of ten, zero first. Checked here for every Nd code point utf8proc
// knows, and against the compatibility decomposition where there is one.
TEST(Normalizer, DecimalDigitsOfEveryScriptBecomeAscii) {
  size_t run = 0;
  size_t digits = 0;
  for (char32_t cp = 0; cp <= 0x110000; ++cp) {
    const bool nd = cp <= 0x10FFFF &&
                    utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ND;
    if (nd) {
      ++run;
      ++digits;
      ASSERT_EQ(DecimalDigitValue(cp), static_cast<int>((run - 1) % 10));
      ASSERT_EQ(NormalizeCodePoint(cp), cp < 0x80 ? -1 : '0' + DecimalDigitValue(cp));
      utf8proc_int32_t decomposed[4];
      int last_boundclass = 0;
      const utf8proc_ssize_t size = utf8proc_decompose_char(
          static_cast<utf8proc_int32_t>(cp), decomposed, 4, UTF8PROC_COMPAT, &last_boundclass);
      if (size == 1 && decomposed[0] >= '0' && decomposed[0] <= '9') {
        ASSERT_EQ(DecimalDigitValue(cp), decomposed[0] - '0')
            << std::hex << static_cast<uint32_t>(cp);
      }
      continue;
    }
    ASSERT_EQ(run % 10, 0u) << "a run of decimal digits ending before U+" << std::hex
                            << static_cast<uint32_t>(cp);
    run = 0;
  }
  EXPECT_GT(digits, 600u);
  EXPECT_EQ(DecimalDigitValue(U'x'), -1);
  EXPECT_EQ(DecimalDigitValue(0x2460), -1);  // circled digit one is No, not Nd
}

TEST(Normalizer, OffsetsCoverRemovedCharactersAndRunsAroundThem) {
  const std::string input = "x \u200Bj\u034Fo\xCC\x81hn\u200D y";
  NormalizedText normalized;
  normalized.Normalize(input);
  EXPECT_EQ(normalized.text(), "x john y");
  EXPECT_EQ(normalized.OriginalBegin(2), input.find('j'));
  EXPECT_EQ(normalized.OriginalEnd(6), input.find('n') + 1);
  EXPECT_EQ(RemovedRunBegin(input, input.find('j')), 2u);
  EXPECT_EQ(RemovedRunEnd(input, input.find('n') + 1), input.find(" y"));
  EXPECT_EQ(RemovedRunBegin(input, 1), 1u);
  EXPECT_EQ(RemovedRunEnd("\xE2\x80", 0), 2u);  // a truncated character is removed
}

// Each class of character that once hid a value: the value is found and
// replaced whole, invisible characters inside and touching it included.
TEST(Evasion, CombiningGraphemeJoinerInsideAnEmail) {
  EXPECT_EQ(Replace("mail jo\u034Fhn@example.com now"), "mail <EMAIL_ADDRESS> now");
  EXPECT_EQ(Replace("mail \u034Fjohn@example.com\u034F now"), "mail <EMAIL_ADDRESS> now");
}

TEST(Evasion, VariationSelectorsAndTagCharacters) {
  EXPECT_EQ(Replace("card 4111\uFE0F1111\U000E01001111\uFE001111 ok"), "card <CREDIT_CARD> ok");
  EXPECT_EQ(Replace("call 1\U000E00413812345678\U000E007F ok"), "call <PHONE_NUMBER> ok");
}

TEST(Evasion, HangulFillers) {
  EXPECT_EQ(Replace("a\u3164bc@ex\u115Fample.com x\u1160 460-89\uFFA0-9847"),
            "<EMAIL_ADDRESS> x\u1160 <US_SSN>");
}

TEST(Evasion, CombiningMarksInsideNumbers) {
  EXPECT_EQ(Replace("SSN 4\u03016\u03000-89-9847\u0308."), "SSN <US_SSN>.");
  EXPECT_EQ(Replace("ip 192.\u0301168.1.1 up"), "ip <IP_ADDRESS> up");
}

TEST(Evasion, FullStopsOfOtherScripts) {
  EXPECT_EQ(Replace("john@example\u3002com"), "<EMAIL_ADDRESS>");
  EXPECT_EQ(Replace("john\uFF0Edoe@example\uFF61com"), "<EMAIL_ADDRESS>");
  EXPECT_EQ(Replace("host 192\u3002168\uFF0E1\uFF6120 up"), "host <IP_ADDRESS> up");
}

TEST(Evasion, DecimalDigitsOfOtherScripts) {
  // Mathematical bold, Arabic-Indic, Devanagari, mixed within one number.
  const std::string bold = "\U0001D7D2\U0001D7CF\U0001D7CF\U0001D7CF";  // 4111
  EXPECT_EQ(Replace("card " + bold + " 1111 1111 1111"), "card <CREDIT_CARD>");
  EXPECT_EQ(Replace("tel ١٣٨١٢٣٤٥٦٧٨"), "tel <PHONE_NUMBER>");
  EXPECT_EQ(Replace("SSN ४६०-८९-९८४७"), "SSN <US_SSN>");
  EXPECT_EQ(Replace("ip ١٩٢.168.१.૧"), "ip <IP_ADDRESS>");
  // Every script's digits: the card written entirely in each.
  const std::string card = "4111111111111111";
  size_t scripts = 0;
  for (char32_t zero = 0x80; zero <= 0x10FFFF; ++zero) {
    if (IsSurrogate(zero) || DecimalDigitValue(zero) != 0) continue;
    std::string written;
    for (char digit : card) written += Utf8(zero + static_cast<char32_t>(digit - '0'));
    ASSERT_EQ(Replace("card " + written + " ok"), "card <CREDIT_CARD> ok")
        << std::hex << "zero U+" << static_cast<uint32_t>(zero);
    ++scripts;
  }
  EXPECT_GT(scripts, 60u);
}

TEST(Evasion, AccentedLettersAreStrippedAsTheTokenizerStripsThem) {
  EXPECT_EQ(Replace("write jöhn@exämple.com"), "write <EMAIL_ADDRESS>");
  EXPECT_EQ(Replace("IBAN GB82 WÉST 1234 5698 7654 32"), "IBAN <IBAN_CODE>");
}

TEST(Evasion, SeparatorsPeopleUse) {
  EXPECT_EQ(Replace("card 4111-1111 1111-1111 ok"), "card <CREDIT_CARD> ok");
  EXPECT_EQ(Replace("手机 138 1234 5678，1 3 9 1 2 3 4 5 6 7 8"),
            "手机 <PHONE_NUMBER>，<PHONE_NUMBER>");
  EXPECT_EQ(Replace("身份证 110105 1949 1231 002X"), "身份证 <CN_RESIDENT_ID>");
}

TEST(Evasion, PrintableAsciiIsScannedInPlace) {
  NormalizedText normalized;
  normalized.Normalize("plain text\twith tabs\r\nand lines");
  EXPECT_TRUE(normalized.identity());
  normalized.Normalize(
      "form\x0C"
      "feed");
  EXPECT_FALSE(normalized.identity());
  EXPECT_EQ(normalized.text(), "formfeed");
}

}  // namespace
}  // namespace mg::privacy
