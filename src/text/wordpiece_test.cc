#include "text/wordpiece.h"

#include <gtest/gtest.h>

#include <random>

namespace mg::text {
namespace {

Vocab MakeVocab(const std::vector<std::string>& tokens) {
  Vocab vocab;
  for (size_t id = 0; id < tokens.size(); ++id)
    EXPECT_TRUE(vocab.Add(tokens[id], static_cast<int32_t>(id)).ok());
  return vocab;
}

std::vector<std::string> Split(const WordPiece& model, const Vocab& vocab,
                               const std::string& word) {
  std::vector<Piece> pieces;
  model.Tokenize(word, 0, static_cast<uint32_t>(word.size()), &pieces);
  std::vector<std::string> tokens;
  for (const Piece& piece : pieces) tokens.emplace_back(vocab.IdToToken(piece.id));
  return tokens;
}

// The reference algorithm, written plainly: shrink the candidate from the
// right one character at a time until it is in the vocabulary.
std::vector<std::string> ReferenceSplit(const Vocab& vocab, const std::string& word,
                                        size_t max_chars) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < word.size(); ++i)
    if ((static_cast<uint8_t>(word[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() > max_chars) return {"[UNK]"};
  starts.push_back(word.size());
  std::vector<std::string> out;
  size_t start = 0;
  while (start + 1 < starts.size()) {
    size_t end = starts.size() - 1;
    std::string found;
    while (end > start) {
      std::string candidate = word.substr(starts[start], starts[end] - starts[start]);
      if (start > 0) candidate = "##" + candidate;
      if (vocab.TokenToId(candidate) >= 0) {
        found = candidate;
        break;
      }
      --end;
    }
    if (found.empty()) return {"[UNK]"};
    out.push_back(found);
    start = end;
  }
  return out;
}

TEST(WordPieceTest, GreedyLongestMatchFirst) {
  Vocab vocab =
      MakeVocab({"[UNK]", "un", "##aff", "##able", "una", "##ffa", "##b", "##le", "é", "##é"});
  WordPiece model = WordPiece::Create(vocab, {}).value();
  EXPECT_EQ(Split(model, vocab, "unaffable"),
            (std::vector<std::string>{"una", "##ffa", "##b", "##le"}));
  EXPECT_EQ(Split(model, vocab, "unaffablex"), (std::vector<std::string>{"[UNK]"}));
  EXPECT_EQ(Split(model, vocab, "éé"), (std::vector<std::string>{"é", "##é"}));
}

TEST(WordPieceTest, LongWordsBecomeUnknownByCharacterCount) {
  Vocab vocab = MakeVocab({"[UNK]", "a", "##a", "é", "##é"});
  WordPieceOptions options;
  options.max_input_chars_per_word = 4;
  WordPiece model = WordPiece::Create(vocab, options).value();
  EXPECT_EQ(Split(model, vocab, "aaaa").size(), 4u);
  EXPECT_EQ(Split(model, vocab, "aaaaa"), (std::vector<std::string>{"[UNK]"}));
  // Four two-byte characters are four characters, not eight.
  EXPECT_EQ(Split(model, vocab, "éééé").size(), 4u);
}

TEST(WordPieceTest, MissingUnknownTokenIsAnError) {
  Vocab vocab = MakeVocab({"a"});
  Result<WordPiece> model = WordPiece::Create(vocab, {});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("[UNK]"), std::string::npos);
}

TEST(WordPieceTest, AgreesWithReferenceOnRandomWords) {
  std::mt19937 rng(11);
  const std::string alphabet = "abcd";
  std::vector<std::string> tokens = {"[UNK]"};
  for (int i = 0; i < 200; ++i) {
    std::string token = (rng() % 2) ? "##" : "";
    for (size_t n = 1 + rng() % 4; n > 0; --n) token.push_back(alphabet[rng() % alphabet.size()]);
    tokens.push_back(token);
  }
  std::sort(tokens.begin() + 1, tokens.end());
  tokens.erase(std::unique(tokens.begin() + 1, tokens.end()), tokens.end());
  Vocab vocab = MakeVocab(tokens);
  WordPieceOptions options;
  options.max_input_chars_per_word = 9;
  WordPiece model = WordPiece::Create(vocab, options).value();
  for (int round = 0; round < 5000; ++round) {
    std::string word;
    for (size_t n = 1 + rng() % 11; n > 0; --n) word.push_back(alphabet[rng() % alphabet.size()]);
    ASSERT_EQ(Split(model, vocab, word), ReferenceSplit(vocab, word, 9)) << word;
  }
}

}  // namespace
}  // namespace mg::text
