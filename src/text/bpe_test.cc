// Byte-level BPE: the GPT-2 split, NFC alignment and RoBERTa / ModernBERT
// encodings, with expected values taken from Hugging Face tokenizers 0.23
// (npm "tokenizers") on the same inputs; plus malformed files and hostile
// input. The full corpora are compared in tests/parity/tokenizer_parity.sh.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text/byte_level.h"
#include "text/nfc_normalizer.h"
#include "text/tokenizer.h"

namespace mg::text {
namespace {

const std::string kVocab = "tests/data/vocab/";

std::vector<std::string> Split(std::string_view text) {
  std::vector<WordSpan> words;
  Gpt2PreTokenize(text, 0, text.size(), &words);
  std::vector<std::string> out;
  for (const WordSpan& word : words)
    out.emplace_back(text.substr(word.begin, word.end - word.begin));
  return out;
}

TEST(Gpt2PreTokenizeTest, FollowsThePattern) {
  EXPECT_EQ(Split("Hello  world  it's"),
            (std::vector<std::string>{"Hello", " ", " world", " ", " it", "'s"}));
  EXPECT_EQ(Split("a\n\nb 12x  "),
            (std::vector<std::string>{"a", "\n", "\n", "b", " 12", "x", "  "}));
  EXPECT_EQ(Split("we'll ?!'s \t"), (std::vector<std::string>{"we", "'ll", " ?!'", "s", " \t"}));
  EXPECT_EQ(Split("日本語 é\xC2\xA0 e"),
            (std::vector<std::string>{"日本語", " é", "\xC2\xA0", " e"}));
}

TEST(ByteLevelTest, MapsBytesToPrintableCharacters) {
  EXPECT_EQ(ByteLevelChar(' '), "Ġ");
  EXPECT_EQ(ByteLevelChar('\n'), "Ċ");
  EXPECT_EQ(ByteLevelChar('a'), "a");
  EXPECT_EQ(ByteLevelChar(0xA0), "ł");
}

struct Aligned {
  std::string text;
  std::vector<uint32_t> begins;  // one per output character
  std::vector<uint32_t> ends;
};

Aligned Nfc(std::string_view input) {
  NormalizedText norm;
  NfcNormalize(input, 0, input.size(), &norm);
  Aligned out{norm.text, {}, {}};
  for (size_t i = 0; i < norm.size(); ++i) {
    if ((static_cast<uint8_t>(norm.text[i]) & 0xC0) == 0x80) continue;
    out.begins.push_back(norm.orig_begin[i]);
    out.ends.push_back(norm.orig_end[i]);
  }
  return out;
}

TEST(NfcNormalizeTest, AlignsLikeHuggingFace) {
  // A composed character takes the first character it absorbed.
  Aligned composed = Nfc("xe\xCC\x81\xCC\x81y");
  EXPECT_EQ(composed.text, "x\xC3\xA9\xCC\x81y");
  EXPECT_EQ(composed.begins, (std::vector<uint32_t>{0, 1, 4, 6}));
  EXPECT_EQ(composed.ends, (std::vector<uint32_t>{1, 2, 6, 7}));
  // Reordered marks keep the positions they land on.
  Aligned reordered = Nfc("q\xCC\x87\xCC\xA3");
  EXPECT_EQ(reordered.text, "q\xCC\xA3\xCC\x87");
  EXPECT_EQ(reordered.begins, (std::vector<uint32_t>{0, 1, 3}));
  // Hangul jamo compose into one syllable.
  Aligned hangul = Nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 z");
  EXPECT_EQ(hangul.text, "\xEA\xB0\x81 z");
  EXPECT_EQ(hangul.begins, (std::vector<uint32_t>{0, 9, 10}));
  EXPECT_EQ(hangul.ends, (std::vector<uint32_t>{3, 10, 11}));
  // Invalid bytes read as U+FFFD.
  EXPECT_EQ(Nfc("a\xFF").text, "a\xEF\xBF\xBD");
}

std::vector<std::string> Tokens(const Tokenizer& tokenizer, const Encoding& encoding) {
  std::vector<std::string> out;
  for (int32_t id : encoding.ids) out.emplace_back(tokenizer.IdToToken(id));
  return out;
}

TEST(BpeTokenizerTest, RobertaPairWithTrimmedOffsets) {
  const Tokenizer tokenizer = Tokenizer::Load(kVocab + "roberta-base").value();
  const std::string_view pair = "pair  text ";
  Encoding encoding;
  ASSERT_TRUE(tokenizer.Encode("Hello  world  ", &pair, {}, &encoding).ok());
  EXPECT_EQ(Tokens(tokenizer, encoding),
            (std::vector<std::string>{"<s>", "Hello", "Ġ", "Ġworld", "Ġ", "Ġ", "</s>", "</s>",
                                      "pair", "Ġ", "Ġtext", "Ġ", "</s>"}));
  EXPECT_EQ(encoding.offsets, (std::vector<Offset>{{0, 0},
                                                   {0, 5},
                                                   {6, 6},
                                                   {7, 12},
                                                   {13, 13},
                                                   {14, 14},
                                                   {0, 0},
                                                   {0, 0},
                                                   {0, 4},
                                                   {5, 5},
                                                   {6, 10},
                                                   {11, 11},
                                                   {0, 0}}));
  EXPECT_EQ(encoding.type_ids, std::vector<int32_t>(13, 0));
}

TEST(BpeTokenizerTest, RobertaMaskAbsorbsTheSpaceBeforeIt) {
  const Tokenizer tokenizer = Tokenizer::Load(kVocab + "roberta-base").value();
  Encoding encoding;
  const std::string text = " a <mask> b";
  ASSERT_TRUE(tokenizer.Encode(text, nullptr, {}, &encoding).ok());
  EXPECT_EQ(encoding.ids[2], tokenizer.TokenToId("<mask>"));
  EXPECT_EQ(encoding.offsets[2], (Offset{3, 9}));
  EXPECT_EQ(tokenizer.TokenText(text, encoding.offsets[2], encoding.ids[2]), " <mask>");
}

TEST(BpeTokenizerTest, VocabJsonMatchesTokenizerJson) {
  const Tokenizer from_json = Tokenizer::Load(kVocab + "roberta-base").value();
  const Tokenizer from_files = Tokenizer::Load(kVocab + "roberta-base/vocab.json").value();
  const std::string text = "It's 2024: naïve café, 日本語 <mask> ok\n\n";
  Encoding a, b;
  ASSERT_TRUE(from_json.Encode(text, nullptr, {}, &a).ok());
  ASSERT_TRUE(from_files.Encode(text, nullptr, {}, &b).ok());
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.offsets, b.offsets);
}

TEST(BpeTokenizerTest, ModernBertComposesAndUsesItsTemplate) {
  const Tokenizer tokenizer = Tokenizer::Load(kVocab + "ModernBERT-large").value();
  Encoding encoding;
  ASSERT_TRUE(tokenizer.Encode("e\xCC\x81x", nullptr, {}, &encoding).ok());
  EXPECT_EQ(Tokens(tokenizer, encoding), (std::vector<std::string>{"[CLS]", "Ã©", "x", "[SEP]"}));
  EXPECT_EQ(encoding.offsets, (std::vector<Offset>{{0, 0}, {0, 1}, {3, 4}, {0, 0}}));
  EXPECT_EQ(tokenizer.pad_id(), tokenizer.TokenToId("[PAD]"));
}

TEST(BpeTokenizerTest, MalformedFilesFailClearly) {
  const std::string base =
      R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[MERGES]},)"
      R"("pre_tokenizer":{"type":"ByteLevel"}})";
  auto with_merges = [&](const std::string& merges) {
    std::string json = base;
    json.replace(json.find("MERGES"), 6, merges);
    return Tokenizer::FromMemory(json, "", "", "test");
  };
  EXPECT_TRUE(with_merges(R"("a b")").ok());
  EXPECT_TRUE(with_merges(R"(["a","b"])").ok());
  EXPECT_FALSE(with_merges(R"("a c")").ok());
  EXPECT_FALSE(with_merges(R"("ab")").ok());
  EXPECT_FALSE(with_merges(R"(7)").ok());
  Result<Tokenizer> no_regex_engine = Tokenizer::FromMemory(
      R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}})",
      "", "", "test");
  EXPECT_FALSE(no_regex_engine.ok());
}

TEST(BpeTokenizerTest, HostileInputNeverBreaksInvariants) {
  const Tokenizer tokenizer = Tokenizer::Load(kVocab + "ModernBERT-large").value();
  std::mt19937 random(7);
  Encoding encoding;
  for (int round = 0; round < 200; ++round) {
    std::string text(static_cast<size_t>(random() % 300), '\0');
    for (char& c : text) c = static_cast<char>(random());
    ASSERT_TRUE(tokenizer.Encode(text, nullptr, {}, &encoding).ok());
    for (const Offset& offset : encoding.offsets) {
      ASSERT_LE(offset.begin, offset.end);
      ASSERT_LE(offset.end, text.size());
    }
  }
  // One long word goes through the merge queue, not the cache.
  const std::string long_word(1 << 20, 'a');
  ASSERT_TRUE(tokenizer.Encode(long_word, nullptr, {}, &encoding).ok());
  EXPECT_EQ(encoding.offsets[encoding.size() - 2].end, long_word.size());
}

}  // namespace
}  // namespace mg::text
