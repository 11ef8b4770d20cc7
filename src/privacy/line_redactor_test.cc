// Line-level redaction: JSON lines keep every byte but the rewritten member;
// text lines keep their layout; PEM blocks spanning lines are caught.
#include "privacy/line_redactor.h"

#include <gtest/gtest.h>

#include "privacy/json_field.h"
#include "privacy/test_support.h"

namespace mg::privacy {
namespace {

class LineRedactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    analyzer_ = testing::MakeAnalyzer();
    KeyBytes bytes;
    bytes.fill(3);
    OperatorOptions options;
    options.op = Operator::kReplace;
    replace_ = Anonymizer::Create(options, std::nullopt).value();
    options.op = Operator::kEncrypt;
    encrypt_ = Anonymizer::Create(options, PrivacyKey::FromBytes(bytes)).value();
  }
  std::unique_ptr<Analyzer> analyzer_;
  std::unique_ptr<Anonymizer> replace_;
  std::unique_ptr<Anonymizer> encrypt_;
};

TEST(JsonField, FindsTheTopLevelMember) {
  const std::string line =
      R"({"id": 7, "meta": {"text": "inner"}, "text": "a\"b\u00e9", "x": [1]})";
  const auto field = FindJsonStringField(line, "text");
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(field->value, "a\"b\xC3\xA9");
  EXPECT_EQ(line.substr(field->begin, field->end - field->begin), R"("a\"b\u00e9")");
  EXPECT_EQ(FindJsonStringField(line, "id").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindJsonStringField(line, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindJsonStringField("{\"text\": broken", "text").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FindJsonStringField("[1,2]", "text").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LineRedactorTest, JsonLineKeepsOtherBytes) {
  auto redactor = LineRedactor::Create(*analyzer_, *replace_).value();
  std::string out;
  ASSERT_TRUE(
      redactor
          ->RedactJsonLine(R"({"label":"x",  "text":"mail a@example.com","n":1.50})", "text", &out)
          .ok());
  EXPECT_EQ(out, R"({"label":"x",  "text":"mail <EMAIL_ADDRESS>","n":1.50})");
  EXPECT_EQ(redactor->counts().by_type[static_cast<size_t>(EntityType::kEmailAddress)], 1u);
  EXPECT_FALSE(redactor->RedactJsonLine(R"({"body":"x"})", "text", &out).ok());
  ASSERT_TRUE(redactor->RedactJsonLine("  ", "text", &out).ok());
  EXPECT_EQ(out, "  ");
}

TEST_F(LineRedactorTest, JsonEncryptDecryptRoundTrip) {
  auto redactor = LineRedactor::Create(*analyzer_, *encrypt_).value();
  const std::string line = R"({"text":"call 415-555-2671 or a@example.com","id":"1"})";
  std::string sealed, restored;
  ASSERT_TRUE(redactor->RedactJsonLine(line, "text", &sealed).ok());
  EXPECT_EQ(sealed.find("415-555-2671"), std::string::npos);
  ASSERT_TRUE(redactor->DecryptJsonLine(sealed, "text", &restored).ok());
  EXPECT_EQ(restored, line);
  EXPECT_EQ(redactor->counts().decrypted, 2u);
}

TEST_F(LineRedactorTest, PrivateKeyAcrossLines) {
  auto redactor = LineRedactor::Create(*analyzer_, *replace_).value();
  const std::vector<std::string> lines = {"before", "-----BEGIN PRIVATE KEY-----",
                                          "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
                                          "-----END PRIVATE KEY----- tail a@example.com", "after"};
  std::vector<std::string> out(lines.size());
  for (size_t i = 0; i < lines.size(); ++i)
    ASSERT_TRUE(redactor->RedactText(lines[i], &out[i]).ok());
  const std::vector<std::string> expected = {"before", "<SECRET>", "<SECRET>",
                                             "<SECRET> tail <EMAIL_ADDRESS>", "after"};
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace mg::privacy
