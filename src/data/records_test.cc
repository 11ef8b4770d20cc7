#include "data/records.h"

#include <gtest/gtest.h>

namespace mg::data {
namespace {

TEST(RecordsTest, JsonLinesWithOptionalFields) {
  auto records = ParseRecords(
      "{\"text\":\"a\",\"label\":\"pos\",\"id\":7}\n\n  \n{\"text\":\"b\",\"text_pair\":\"c\"}\r\n",
      "in.jsonl");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].label, "pos");
  EXPECT_EQ((*records)[0].id, "7");
  EXPECT_EQ((*records)[1].text_pair, "c");
  EXPECT_EQ((*records)[1].line, 4u);
}

TEST(RecordsTest, JsonLinesErrorsNameTheLine) {
  auto bad = ParseRecords("{\"text\":\"a\"}\n{\"text\":", "in.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("in.jsonl line 2"), std::string::npos);
  auto no_text = ParseRecords("{\"label\":1}", "in.jsonl");
  ASSERT_FALSE(no_text.ok());
  EXPECT_NE(no_text.status().message().find("\"text\""), std::string::npos);
  auto not_object = ParseRecords("[1,2]", "in.jsonl");
  EXPECT_FALSE(not_object.ok());
  auto invalid_utf8 = ParseRecords("{\"text\":\"\xff\"}", "in.jsonl");
  EXPECT_FALSE(invalid_utf8.ok());
}

TEST(RecordsTest, DeeplyNestedJsonLineIsRefused) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto records = ParseRecords("{\"text\": \"ok\"}\n{\"text\": \"x\", \"extra\": " + deep + "}\n",
                              "in.jsonl", RecordFormat::kJsonLines);
  ASSERT_FALSE(records.ok());
  EXPECT_NE(records.status().message().find("in.jsonl line 2"), std::string::npos);
  EXPECT_NE(records.status().message().find("nests deeper than 64"), std::string::npos)
      << records.status().message();
}

TEST(RecordsTest, CustomTextField) {
  auto records = ParseRecords("{\"body\":\"x\"}", "in.jsonl", RecordFormat::kJsonLines, "body");
  ASSERT_TRUE(records.ok());
  EXPECT_EQ((*records)[0].text, "x");
}

TEST(RecordsTest, CsvQuotingAndLineNumbers) {
  auto records = ParseRecords(
      "\xEF\xBB\xBFtext,label\n\"hello, \"\"world\"\"\",pos\n\"two\nlines\",neg\r\nplain,neu",
      "in.csv");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].text, "hello, \"world\"");
  EXPECT_EQ((*records)[1].text, "two\nlines");
  EXPECT_EQ((*records)[2].line, 5u);
  EXPECT_EQ((*records)[2].label, "neu");
}

TEST(RecordsTest, CsvErrors) {
  auto wrong_width = ParseRecords("text,label\na,b,c\n", "in.csv");
  ASSERT_FALSE(wrong_width.ok());
  EXPECT_NE(wrong_width.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseRecords("label\nx\n", "in.csv").ok());
  EXPECT_FALSE(ParseRecords("text\n\"open", "in.csv").ok());
  EXPECT_FALSE(ParseRecords("", "in.csv").ok());
}

TEST(RecordsTest, TextLines) {
  auto records = ParseRecords("a\r\n\nb", "in.txt");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[1].text, "");
}

TEST(RecordsTest, LoneSurrogateEscapes) {
  EXPECT_EQ(ReplaceLoneSurrogateEscapes(R"({"t":"a\ud800b"})"), R"({"t":"a\ufffdb"})");
  EXPECT_EQ(ReplaceLoneSurrogateEscapes(R"("\udc00")"), R"("\ufffd")");
  // A proper pair and an escaped backslash stay as they are.
  EXPECT_EQ(ReplaceLoneSurrogateEscapes(R"("\ud83d\ude00")"), R"("\ud83d\ude00")");
  EXPECT_EQ(ReplaceLoneSurrogateEscapes(R"("\\ud800")"), R"("\\ud800")");
  auto records = ParseRecords(R"({"text":"x\ud800"})", "in.jsonl");
  ASSERT_TRUE(records.ok());
  EXPECT_EQ((*records)[0].text, "x\xEF\xBF\xBD");
}

TEST(RecordsTest, UnknownFormatName) { EXPECT_FALSE(ParseRecordFormat("xml").ok()); }

}  // namespace
}  // namespace mg::data
