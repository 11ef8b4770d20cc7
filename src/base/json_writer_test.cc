#include "base/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace mg {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonWriterTest, EscapesLikeAJsonParserExpects) {
  const std::string tricky = std::string("a\"b\\c\n\t\x01 é 中 😀") + std::string(1, '\0');
  std::string quoted = Quote(tricky);
  // An independent parser must read back exactly the input.
  EXPECT_EQ(nlohmann::json::parse(quoted).get<std::string>(), tricky);
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Quote("a\xff"
                  "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // encoded surrogate
  EXPECT_EQ(Quote("\xc3"), "\"\\ufffd\"");                        // truncated
}

TEST(JsonWriterTest, Numbers) {
  std::string out;
  AppendJsonInt(&out, -42);
  out.push_back(' ');
  AppendJsonFloat(&out, 0.1f);
  out.push_back(' ');
  AppendJsonFloat(&out, std::numeric_limits<float>::infinity());
  EXPECT_EQ(out, "-42 0.1 null");
}

TEST(JsonWriterTest, WriterPlacesSeparators) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("name").String("a\"b").Key("n").Int(-3).Key("empty").BeginArray().EndArray();
  w.Key("rows").BeginArray();
  for (int row = 0; row < 2; ++row) {
    w.BeginObject().Key("row").Int(row).Key("x").Float(0.5f).Key("ok").Bool(row == 1).EndObject();
  }
  w.EndArray().Key("nested").BeginObject().EndObject().Key("inf").Float(1.0f / 0.0f).EndObject();
  EXPECT_EQ(out,
            "{\"name\":\"a\\\"b\",\"n\":-3,\"empty\":[],\"rows\":[{\"row\":0,\"x\":0.5,"
            "\"ok\":false},{\"row\":1,\"x\":0.5,\"ok\":true}],\"nested\":{},\"inf\":null}");
  // An independent parser reads the same structure.
  const nlohmann::json parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed["name"], "a\"b");
  EXPECT_EQ(parsed["rows"].size(), 2u);
  EXPECT_EQ(parsed["rows"][1]["ok"], true);
  EXPECT_TRUE(parsed["inf"].is_null());
}

TEST(JsonWriterTest, WriterAppendsToWhatIsThere) {
  std::string out = "x ";
  JsonWriter(&out).BeginArray().Int(1).Int(2).String("3").EndArray();
  EXPECT_EQ(out, "x [1,2,\"3\"]");
}

TEST(JsonWriterTest, WriteJsonStringWritesWhatAppendAppends) {
  // Every kind of byte, in runs and alone, against the growing-string form
  // (itself checked against a parser above).
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::string value(random() % 40, '\0');
    for (char& c : value) {
      const uint32_t pick = random() % 4;
      c = static_cast<char>(pick == 0   ? random() % 256
                            : pick == 1 ? 'a' + random() % 26
                            : pick == 2 ? "\"\\\n\x01"[random() % 4]
                                        : "\xc3\xa9\xe4\xb8\xad"[random() % 5]);
    }
    std::string expected;
    AppendJsonString(&expected, value);
    std::string buffer(MaxJsonStringBytes(value.size()), '#');
    char* end = WriteJsonString(buffer.data(), value);
    ASSERT_LE(end - buffer.data(), static_cast<ptrdiff_t>(buffer.size()));
    EXPECT_EQ(std::string(buffer.data(), end), expected);
  }
  // The bound is reached: every byte invalid.
  const std::string invalid(5, '\xff');
  std::string buffer(MaxJsonStringBytes(invalid.size()), '#');
  EXPECT_EQ(WriteJsonString(buffer.data(), invalid) - buffer.data(),
            static_cast<ptrdiff_t>(buffer.size()));
  EXPECT_EQ(buffer, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(JsonWriterTest, WriteJsonIntExtremes) {
  char buffer[kMaxJsonIntBytes];
  EXPECT_EQ(std::string(buffer, WriteJsonInt(buffer, INT64_MIN)), "-9223372036854775808");
  EXPECT_EQ(std::string(buffer, WriteJsonInt(buffer, 0)), "0");
  EXPECT_EQ(std::string(buffer, WriteJsonInt(buffer, 30521)), "30521");
}

}  // namespace
}  // namespace mg
