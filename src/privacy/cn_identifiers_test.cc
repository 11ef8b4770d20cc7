// Chinese identifiers from tests/data/pii/cn_identifiers.tsv, generated with
// an independent implementation of the check characters
// (tools/gen_cn_identifiers.py): valid ones are found, invalid ones (wrong
// check character, impossible birth date, unknown province) are not.
#include <fstream>
#include <sstream>

#include "privacy/test_support.h"

namespace mg::privacy {
namespace {

struct Row {
  std::string kind, expected, value, why;
};

std::vector<Row> ReadRows() {
  std::ifstream in("tests/data/pii/cn_identifiers.tsv");
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Row row;
    std::getline(fields, row.kind, '\t');
    std::getline(fields, row.expected, '\t');
    std::getline(fields, row.value, '\t');
    std::getline(fields, row.why, '\t');
    rows.push_back(row);
  }
  return rows;
}

TEST(CnIdentifiers, GeneratedSetIsDetectedOrRejected) {
  const std::vector<Row> rows = ReadRows();
  ASSERT_GE(rows.size(), 100u) << "run from the repository root";
  size_t valid = 0, invalid = 0;
  for (const Row& row : rows) {
    const EntityType type = *ParseEntityType(row.kind);
    const auto analyzer = testing::MakeAnalyzer({type});
    const std::string context = type == EntityType::kCnUscc ? "统一社会信用代码：" : "身份证号：";
    const testing::Found found = testing::Detect(*analyzer, context + row.value + "。");
    if (row.expected == "valid") {
      ++valid;
      EXPECT_EQ(found, testing::One(row.kind, row.value)) << row.value << " (" << row.why << ")";
    } else {
      ++invalid;
      EXPECT_EQ(found, testing::Found{}) << row.value << " (" << row.why << ")";
    }
  }
  EXPECT_GE(valid, 80u);
  EXPECT_GE(invalid, 40u);
}

TEST(CnIdentifiers, ResidentIdWithoutContextLowerCaseXAndSpaces) {
  EXPECT_EQ(testing::Detect("11010519491231002X"),
            testing::One("CN_RESIDENT_ID", "11010519491231002X"));
  EXPECT_EQ(testing::Detect("no. 11010519491231002x"),
            testing::One("CN_RESIDENT_ID", "11010519491231002x"));
  EXPECT_EQ(testing::Detect("110105 19491231 002X"),
            testing::One("CN_RESIDENT_ID", "110105 19491231 002X"));
  for (const char* spaced : {"1101 0519 4912 3100 2X", "110105-19491231-002X",
                             "1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 X", "11010519 4912 31002X"}) {
    EXPECT_EQ(testing::Detect(spaced), testing::One("CN_RESIDENT_ID", spaced)) << spaced;
  }
  EXPECT_EQ(testing::Detect("7 1101 0519 4912 3100 2X"), testing::Found{});  // longer token
  EXPECT_EQ(testing::Detect("1101 0519 4912 3100 29"), testing::Found{});    // check character
  EXPECT_EQ(testing::Detect("1101051949123100211"), testing::Found{});       // 19 digits
}

TEST(CnIdentifiers, UsccWithLettersStandsAlone) {
  EXPECT_EQ(testing::Detect("代码91350100M000100Y43"),
            testing::One("CN_USCC", "91350100M000100Y43"));
  EXPECT_EQ(testing::Detect("91350100M000100Y44"), testing::Found{});
  EXPECT_EQ(testing::Detect("91350100m000100y43"),  // an uncased model reads it the same
            testing::One("CN_USCC", "91350100m000100y43"));
}

}  // namespace
}  // namespace mg::privacy
