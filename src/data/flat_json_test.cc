#include "data/flat_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

namespace mg::data {
namespace {

std::vector<FlatJsonField> Fields() {
  std::vector<FlatJsonField> fields(3);
  fields[0].key = "text";
  fields[1].key = "id";
  fields[2].key = "text_pair";
  return fields;
}

// Whenever the reader accepts a line, nlohmann::json must read it as a valid
// object with the same values for the keys asked for.
void ExpectSameAsFullParser(const std::string& line) {
  std::vector<FlatJsonField> fields = Fields();
  if (!ReadFlatJsonObject(line, fields)) return;
  const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << "accepted invalid JSON: " << line;
  ASSERT_TRUE(parsed.is_object()) << line;
  for (const FlatJsonField& field : fields) {
    auto it = parsed.find(std::string(field.key));
    ASSERT_EQ(field.present, it != parsed.end()) << line;
    if (!field.present) continue;
    ASSERT_EQ(field.is_null, it->is_null()) << line;
    if (!field.is_null) {
      EXPECT_EQ(field.value, it->get<std::string>()) << line;
    }
  }
}

TEST(FlatJsonTest, ReadsAFlatObject) {
  std::vector<FlatJsonField> fields = Fields();
  // An array value: declined.
  EXPECT_FALSE(ReadFlatJsonObject(R"({"text": "a", "x": []})", fields));
  ASSERT_TRUE(ReadFlatJsonObject(
      R"( {"label": 3, "text" : "a\"b\\c\/\n\u00e9\u4e2d\u0000", "id":null, "y": -1.5e3, "z": true} )",
      fields));
  EXPECT_EQ(fields[0].value,
            std::string("a\"b\\c/\n\xc3\xa9\xe4\xb8\xad", 12) + std::string(1, '\0'));
  EXPECT_TRUE(fields[1].present);
  EXPECT_TRUE(fields[1].is_null);
  EXPECT_FALSE(fields[2].present);
}

TEST(FlatJsonTest, DeclinesWhatItLeavesToTheFullParser) {
  std::vector<FlatJsonField> fields = Fields();
  for (const char* line : {
           R"({"text":"a","text":"b"})",    // a wanted key twice
           R"({"text":1})",                 // a wanted key, not a string
           R"({"te\u0078t":"a"})",          // an escaped key
           R"({"text":"\ud83d\ude00"})",    // a surrogate pair
           R"({"text":"\ud800"})",          // a lone surrogate
           "{\"text\":\"\xff\"}",           // invalid UTF-8
           "{\"text\":\"a\tb\"}",           // a raw control character
           R"({"text":"a"} x)",             // trailing text
           R"({"text":"a",})",              // trailing comma
           R"({"n":01,"text":"a"})",        // a leading zero
           "\xEF\xBB\xBF{\"text\":\"a\"}",  // a byte order mark
           R"(["text"])",                   // not an object
       }) {
    EXPECT_FALSE(ReadFlatJsonObject(line, fields)) << line;
  }
}

TEST(FlatJsonTest, AgreesWithTheFullParserOnMutatedLines) {
  // Lines made from JSON-ish pieces, accepted or not; every accepted one must
  // read as nlohmann::json reads it.
  const std::vector<std::string> pieces = {
      "{",       "}",  "\"text\"", "\"id\"", "\"text_pair\"", "\"other\"", ":",
      ",",       " ",  "\"a\"",    "null",   "true",          "-0.5e+2",   "\"\\u00e9\"",
      "\"\\n\"", "12", "\"\\\"",   "\"é\"",  "\"\\ud800\"",   "[",         "]",
      "\"\\/\"", "\t", "1."};
  std::mt19937 random(11);
  for (int round = 0; round < 20000; ++round) {
    std::string line = "{\"text\":";
    const int count = static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) line += pieces[random() % pieces.size()];
    if (random() % 2) line += "}";
    ExpectSameAsFullParser(line);
    ExpectSameAsFullParser("{\"text\":\"x\",\"id\":\"" + std::to_string(round) + "\"," +
                           pieces[random() % pieces.size()] + ":" +
                           pieces[random() % pieces.size()] + "}");
  }
}

}  // namespace
}  // namespace mg::data
