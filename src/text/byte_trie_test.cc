#include "text/byte_trie.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace mg::text {
namespace {

TEST(ByteTrieTest, LongestPrefix) {
  ByteTrie::Builder builder;
  builder.Add("a", 1);
  builder.Add("ab", 2);
  builder.Add("abcd", 4);
  ByteTrie trie = builder.Build();
  const std::string text = "abcx";
  size_t length = 0;
  EXPECT_EQ(trie.LongestPrefix(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &length),
            2);
  EXPECT_EQ(length, 2u);
  EXPECT_EQ(trie.Find("abcd"), 4);
  EXPECT_EQ(trie.Find("abc"), -1);
  EXPECT_EQ(trie.LongestPrefix(reinterpret_cast<const uint8_t*>("zz"), 2, &length), -1);
}

// Against a brute-force reference on random keys over a small alphabet, with
// nodes both below and above the linear-scan threshold.
TEST(ByteTrieTest, MatchesBruteForce) {
  std::mt19937 rng(7);
  std::map<std::string, int32_t> keys;
  ByteTrie::Builder builder;
  for (int32_t value = 0; value < 3000; ++value) {
    std::string key;
    const size_t length = 1 + rng() % 6;
    for (size_t i = 0; i < length; ++i)
      key.push_back(static_cast<char>(i == 0 ? rng() % 256 : 'a' + rng() % 40));
    keys[key] = value;
    builder.Add(key, value);
  }
  ByteTrie trie = builder.Build();
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t length = 1 + rng() % 8;
    for (size_t i = 0; i < length; ++i)
      text.push_back(static_cast<char>(i == 0 ? rng() % 256 : 'a' + rng() % 40));
    int32_t expected = -1;
    size_t expected_length = 0;
    for (size_t n = text.size(); n >= 1; --n) {
      auto it = keys.find(text.substr(0, n));
      if (it != keys.end()) {
        expected = it->second;
        expected_length = n;
        break;
      }
    }
    size_t got_length = 0;
    int32_t got =
        trie.LongestPrefix(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &got_length);
    ASSERT_EQ(got, expected) << text;
    if (expected >= 0) {
      ASSERT_EQ(got_length, expected_length) << text;
    }
  }
}

}  // namespace
}  // namespace mg::text
