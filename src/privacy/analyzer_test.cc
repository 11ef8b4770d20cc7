// The Analyzer end to end: evasion by invisible and full-width characters,
// byte offsets into the original text, invalid UTF-8, mixed scripts, huge
// inputs, overlaps, thresholds, entity filters, the Recognizer extension
// point, and sharing one Analyzer between threads.
#include "privacy/analyzer.h"

#include <thread>

#include "privacy/anonymizer.h"
#include "privacy/normalizer.h"
#include "privacy/overlap.h"
#include "privacy/test_support.h"

namespace mg::privacy {
namespace {

using testing::Detect;
using testing::Found;
using testing::One;

TEST(Normalizer, MapsBackToOriginalBytes) {
  NormalizedText normalized;
  const std::string input = "a\u200Bb\xEF\xBC\x91\xFF!";  // a ZWSP b FULLWIDTH-1 bad-byte !
  normalized.Normalize(input);
  EXPECT_EQ(normalized.text(), std::string("ab1!"));  // the bad byte is removed
  EXPECT_EQ(normalized.OriginalBegin(1), 4u);         // 'b' after the 3-byte ZWSP
  EXPECT_EQ(normalized.OriginalBegin(2), 5u);         // the full-width digit
  EXPECT_EQ(normalized.OriginalEnd(3), 8u);
  EXPECT_EQ(normalized.OriginalEnd(4), input.size());
  normalized.Normalize("plain ascii");
  EXPECT_TRUE(normalized.identity());
}

TEST(Evasion, ZeroWidthCharactersInsidePii) {
  const std::string email = "jo\u200Bhn@exa\u200Dmple\u00AD.com";
  EXPECT_EQ(Detect("mail " + email + " now"), One("EMAIL_ADDRESS", email));
  const std::string card = "4111\u20601111\u200B1111\uFEFF1111";
  EXPECT_EQ(Detect("card " + card), One("CREDIT_CARD", card));
}

TEST(Evasion, FullWidthDigitsAndLetters) {
  const std::string phone = "１３８１２３４５６７８";
  EXPECT_EQ(Detect("手机：" + phone + "。"), One("PHONE_NUMBER", phone));
  const std::string iban = "ＧＢ８２ＷＥＳＴ１２３４５６９８７６５４３２";
  EXPECT_EQ(Detect(iban), One("IBAN_CODE", iban));
  const std::string email = "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ";
  EXPECT_EQ(Detect(email), One("EMAIL_ADDRESS", email));
}

TEST(Offsets, AreBytesOfTheOriginalText) {
  const std::string text = "Ünïcödé 文字 — SSN 460-89-9847 😀 ok";
  auto analyzer = testing::MakeAnalyzer();
  auto scratch = analyzer->NewScratch();
  const auto findings = analyzer->Analyze(text, scratch->get());
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].begin, text.find("460"));
  EXPECT_EQ((*findings)[0].end, text.find("460") + 11);
}

TEST(InvalidUtf8, BadBytesAreRemovedAsTheTokenizerRemovesThem) {
  // The tokenizer reads "5551234 call": so must the detectors. Bad bytes
  // touching a value go with it.
  EXPECT_EQ(Detect("\xFF\xFEjohn@example.com\xC0"),
            One("EMAIL_ADDRESS", "\xFF\xFEjohn@example.com\xC0"));
  EXPECT_EQ(Detect("555\xFF"
                   "1234 call"),
            One("PHONE_NUMBER",
                "555\xFF"
                "1234"));
  std::string noise;
  for (int byte = 0; byte < 256; ++byte) noise.push_back(static_cast<char>(byte));
  for (int round = 0; round < 64; ++round) noise += noise.substr(round, 97);
  EXPECT_EQ(Detect(noise), Found{});
  EXPECT_EQ(Detect("\xE6\x89"), Found{});  // truncated sequence at the end
}

TEST(InvalidUtf8, RandomPiiLikeBytesNeverBreakAnything) {
  // Pieces that trigger every detector, glued with random bytes; every span
  // must lie inside the text, ordered and disjoint, and encrypting then
  // decrypting must give the text back.
  const std::vector<std::string> pieces = {"4111 1111 1111 1111",
                                           "a@b.co",
                                           "::",
                                           "1.2.3.4",
                                           "+1 (415) 555-2671",
                                           "GB82 WEST ",
                                           "11010519491231002X",
                                           "91350100M000100Y43",
                                           "born 1985-03-12",
                                           "ghp_",
                                           "eyJhbGciOi",
                                           "-----BEGIN PRIVATE KEY-----",
                                           "\xEF\xBC\x91",
                                           "\xE2\x80\x8B",
                                           "\xCD\x8F",      // U+034F
                                           "\xD9\xA3",      // Arabic-Indic 3
                                           "\xE3\x80\x82",  // ideographic full stop
                                           "\x0C",
                                           "\xFF",
                                           "\xC3",
                                           "\n",
                                           " ",
                                           "-",
                                           "."};
  auto analyzer = testing::MakeAnalyzer({}, 0.0f);
  auto scratch = analyzer->NewScratch();
  KeyBytes key;
  key.fill(9);
  OperatorOptions options;
  options.op = Operator::kEncrypt;
  const auto cipher = Anonymizer::Create(options, PrivacyKey::FromBytes(key)).value();
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int parts = static_cast<int>(next() % 12);
    for (int part = 0; part < parts; ++part) {
      if (next() % 3 == 0) {
        text.push_back(static_cast<char>(next() & 0xFF));
      } else {
        text += pieces[next() % pieces.size()];
      }
    }
    const auto findings = analyzer->Analyze(text, scratch->get());
    ASSERT_TRUE(findings.ok());
    size_t last_end = 0;
    for (const Finding& finding : *findings) {
      ASSERT_LE(last_end, finding.begin);
      ASSERT_LT(finding.begin, finding.end);
      ASSERT_LE(finding.end, text.size());
      last_end = finding.end;
    }
    size_t tokens = 0;
    const Result<std::string> restored = cipher->Decrypt(cipher->Apply(text, *findings), &tokens);
    ASSERT_TRUE(restored.ok());
    ASSERT_EQ(*restored, text);
    ASSERT_EQ(tokens, findings->size());
  }
}

TEST(MixedScripts, FindsEverythingInOneText) {
  const Found found = Detect(
      "Клиент 张伟 (john@example.com), 电话 13812345678, IBAN DE89370400440532013000, "
      "مرحبا 192.0.2.1");
  const Found expected = {{"EMAIL_ADDRESS", "john@example.com"},
                          {"PHONE_NUMBER", "13812345678"},
                          {"IBAN_CODE", "DE89370400440532013000"},
                          {"IP_ADDRESS", "192.0.2.1"}};
  EXPECT_EQ(found, expected);
}

TEST(HugeInput, TenMegabytesWithPiiThroughout) {
  std::string text;
  size_t planted = 0;
  while (text.size() < 10'000'000) {
    text += "Lorem ipsum dolor sit amet, 中文字符 consectetur adipiscing elit 2024-01-01. ";
    if (text.size() / 100'000 > planted) {
      text += "mail user" + std::to_string(planted) + "@example.com then ";
      ++planted;
    }
  }
  auto analyzer = testing::MakeAnalyzer();
  auto scratch = analyzer->NewScratch();
  const auto findings = analyzer->Analyze(text, scratch->get());
  ASSERT_TRUE(findings.ok());
  EXPECT_EQ(findings->size(), planted);
  for (const Finding& finding : *findings) EXPECT_EQ(finding.type, EntityType::kEmailAddress);
  EXPECT_EQ(Detect(std::string(10'000'000, '7')), Found{});
}

TEST(Options, EntityFilterAndThreshold) {
  const std::string text = "john@example.com 415-555-2671";
  EXPECT_EQ(Detect(*testing::MakeAnalyzer({EntityType::kPhoneNumber}), text),
            One("PHONE_NUMBER", "415-555-2671"));
  EXPECT_EQ(Detect(*testing::MakeAnalyzer({}, 0.99f), text), Found{});
  EXPECT_EQ(Detect(*testing::MakeAnalyzer({}, 0.1f), "0490 75 40 81"),
            One("PHONE_NUMBER", "0490 75 40 81"));
  AnalyzerOptions bad;
  bad.threshold = 1.5f;
  EXPECT_FALSE(Analyzer::Create(bad).ok());
}

TEST(Overlaps, HigherScoreThenLongerWins) {
  const std::vector<Finding> findings = {{EntityType::kUrl, 0, 30, 0.6f},
                                         {EntityType::kEmailAddress, 10, 20, 0.95f},
                                         {EntityType::kPhoneNumber, 25, 40, 0.6f},
                                         {EntityType::kIpAddress, 35, 45, 0.6f}};
  const std::vector<Finding> resolved = ResolveOverlaps(findings);
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved[0].type, EntityType::kEmailAddress);
  EXPECT_EQ(resolved[1].type, EntityType::kPhoneNumber);  // 15 bytes beat the IP's 10
}

// A stand-in for a token-classification model.
class FakeNameRecognizer : public Recognizer {
 public:
  std::vector<EntityType> entities() const override { return {EntityType::kPerson}; }
  Status Recognize(std::string_view text, std::vector<Finding>* out) const override {
    const size_t at = text.find("Alice Smith");
    if (at != std::string_view::npos) out->push_back({EntityType::kPerson, at, at + 11, 0.9f});
    return Status::Ok();
  }
};

TEST(Recognizer, ModelFindingsMergeWithPatterns) {
  std::vector<std::unique_ptr<Recognizer>> recognizers;
  recognizers.push_back(std::make_unique<FakeNameRecognizer>());
  auto analyzer = Analyzer::Create({}, std::move(recognizers));
  ASSERT_TRUE(analyzer.ok());
  const Found found = Detect(**analyzer, "Alice Smith <alice@example.com>");
  const Found expected = {{"PERSON", "Alice Smith"}, {"EMAIL_ADDRESS", "alice@example.com"}};
  EXPECT_EQ(found, expected);
}

TEST(Threads, OneAnalyzerManyScratches) {
  auto analyzer = testing::MakeAnalyzer();
  std::vector<std::thread> threads;
  std::vector<size_t> counts(8, 0);
  for (size_t t = 0; t < counts.size(); ++t) {
    threads.emplace_back([&, t] {
      auto scratch = analyzer->NewScratch();
      for (int round = 0; round < 200; ++round) {
        const auto findings = analyzer->Analyze(
            "a@example.com 4111111111111111 " + std::to_string(round), scratch->get());
        counts[t] += findings.ok() ? findings->size() : 0;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t count : counts) EXPECT_EQ(count, 400u);
}

}  // namespace
}  // namespace mg::privacy
