// Unigram: the precompiled charsmap, Metaspace and Viterbi segmentation, with
// expected values taken from Hugging Face tokenizers 0.23 (npm "tokenizers")
// on the same files and inputs; plus malformed files. The full corpora are
// compared in tests/parity/tokenizer_parity.sh.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "text/precompiled.h"
#include "text/tokenizer.h"
#include "text/unigram.h"

namespace mg::text {
namespace {

using nlohmann::json;

const std::string kT5 = "tests/data/vocab/t5-small";

// A Darts double-array charsmap built here, independently of the reader:
// each node's children sit at base ^ label, its value at base ^ 0.
std::string BuildCharsmap(const std::vector<std::pair<std::string, std::string>>& entries) {
  struct Node {
    std::vector<std::pair<uint8_t, size_t>> children;
    int64_t value = -1;
  };
  std::vector<Node> nodes(1);
  std::string blob;
  for (const auto& [key, replacement] : entries) {
    size_t node = 0;
    for (char ch : key) {
      const auto c = static_cast<uint8_t>(ch);
      size_t next = 0;
      for (const auto& [label, child] : nodes[node].children)
        if (label == c) next = child;
      if (next == 0) {
        next = nodes.size();
        nodes[node].children.emplace_back(c, next);
        nodes.emplace_back();
      }
      node = next;
    }
    nodes[node].value = static_cast<int64_t>(blob.size());
    blob += replacement;
    blob.push_back('\0');
  }
  std::vector<uint32_t> units(1, 0);
  std::vector<bool> used(1, true);
  auto is_used = [&](size_t at) { return at < used.size() && used[at]; };
  auto take = [&](size_t at) {
    if (at >= used.size()) {
      used.resize(at + 1, false);
      units.resize(at + 1, 0);
    }
    used[at] = true;
  };
  std::set<size_t> bases;
  std::vector<std::pair<size_t, size_t>> todo = {{0, 0}};  // (node, position)
  while (!todo.empty()) {
    const auto [node, pos] = todo.back();
    todo.pop_back();
    std::vector<uint8_t> need;
    for (const auto& [label, child] : nodes[node].children) need.push_back(label);
    if (nodes[node].value >= 0) need.push_back(0);
    // Every node gets its own base, as Darts gives it.
    size_t base = 1;
    for (bool clash = true; clash; clash && ++base) {
      clash = bases.count(base) > 0;
      for (uint8_t c : need) clash = clash || is_used(base ^ c);
    }
    bases.insert(base);
    for (uint8_t c : need) take(base ^ c);
    const uint8_t label = pos == 0 ? 0 : static_cast<uint8_t>(units[pos]);
    units[pos] =
        label | (nodes[node].value >= 0 ? 1u << 8 : 0u) | (static_cast<uint32_t>(pos ^ base) << 10);
    if (nodes[node].value >= 0) units[base] = (1u << 31) | static_cast<uint32_t>(nodes[node].value);
    for (const auto& [c, child] : nodes[node].children) {
      units[base ^ c] = c;  // the label; completed when the child is placed
      todo.emplace_back(child, base ^ c);
    }
  }
  std::string bytes;
  const uint32_t size = static_cast<uint32_t>(units.size() * 4);
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(size >> (8 * i)));
  for (uint32_t unit : units)
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(unit >> (8 * i)));
  return bytes + blob;
}

const std::vector<std::pair<std::string, std::string>> kEntries = {
    {"\xEF\xBC\xA1", "A"},     // U+FF21 FULLWIDTH A
    {"\xEF\xAC\x81", "fi"},    // U+FB01 LIGATURE FI
    {"\r", " "},               // a prefix of the CR LF grapheme
    {"\xE2\x80\x8B", ""},      // U+200B ZERO WIDTH SPACE, removed
    {"e\xCC\x81", "\xC3\xA9"}  // e + U+0301 -> U+00E9
};

struct Aligned {
  std::string text;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // per output character
};

Aligned Apply(const PrecompiledCharsmap& map, std::string_view input) {
  NormalizedText in;
  for (size_t i = 0; i < input.size(); ++i) {
    size_t begin = i;
    while (begin > 0 && (static_cast<uint8_t>(input[begin]) & 0xC0) == 0x80) --begin;
    size_t end = i + 1;
    while (end < input.size() && (static_cast<uint8_t>(input[end]) & 0xC0) == 0x80) ++end;
    in.text.push_back(input[i]);
    in.orig_begin.push_back(static_cast<uint32_t>(begin));
    in.orig_end.push_back(static_cast<uint32_t>(end));
  }
  NormalizedText out;
  map.Normalize(in, 0, &out);
  Aligned result{out.text, {}};
  for (size_t i = 0; i < out.size(); ++i) {
    if ((static_cast<uint8_t>(out.text[i]) & 0xC0) != 0x80)
      result.ranges.emplace_back(out.orig_begin[i], out.orig_end[i]);
  }
  return result;
}

TEST(PrecompiledTest, ReplacesGraphemesAsHuggingFaceDoes) {
  auto map = PrecompiledCharsmap::FromBytes(BuildCharsmap(kEntries));
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  // "ﬁ" grows into two characters, both aligned to the ligature.
  Aligned a = Apply(*map, "x\xEF\xAC\x81y");
  EXPECT_EQ(a.text, "xfiy");
  EXPECT_EQ(a.ranges, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}, {1, 4}, {1, 4}, {4, 5}}));
  // CR LF is one grapheme: its prefix CR matches and replaces both.
  EXPECT_EQ(Apply(*map, "a\r\nb").text, "a b");
  // A vanishing character lengthens the removal of the one before it; at
  // the start it is lost, and what follows takes the alignment one early.
  Aligned z = Apply(*map,
                    "\xE2\x80\x8B"
                    "ab");
  EXPECT_EQ(z.text, "ab");
  EXPECT_EQ(z.ranges, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 3}, {3, 4}}));
  Aligned e = Apply(*map, "e\xCC\x81\xE2\x80\x8Bx");
  EXPECT_EQ(e.text, "\xC3\xA9x");
  EXPECT_EQ(e.ranges, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}, {6, 7}}));
  // Nothing to change: the input as it was.
  EXPECT_EQ(Apply(*map, "plain").text, "plain");
}

TEST(PrecompiledTest, RefusesMalformedCharsmaps) {
  std::string good = BuildCharsmap(kEntries);
  EXPECT_FALSE(PrecompiledCharsmap::FromBase64("not base64!").ok());
  EXPECT_FALSE(PrecompiledCharsmap::FromBytes("").ok());
  // The header claims more trie than there is.
  EXPECT_FALSE(PrecompiledCharsmap::FromBytes(good.substr(0, good.size() / 2)).ok());
  // A value pointing past the replacements.
  std::string bad_value = good.substr(0, good.size() - 6);
  auto status = PrecompiledCharsmap::FromBytes(bad_value).status();
  EXPECT_FALSE(status.ok());
  // Replacements that are not UTF-8.
  EXPECT_FALSE(PrecompiledCharsmap::FromBytes(good + "\xFF").ok());
}

TEST(UnigramTest, ViterbiScoresTiesAndUnknowns) {
  Vocab vocab;
  const std::vector<std::pair<std::string, double>> pieces = {
      {"<unk>", 0}, {"a", -1}, {"b", -1}, {"ab", -2}, {"abc", -3.5}, {"c", -1.5}, {"<0x78>", -1}};
  std::vector<double> scores;
  for (size_t id = 0; id < pieces.size(); ++id) {
    ASSERT_TRUE(vocab.Add(pieces[id].first, static_cast<int32_t>(id)).ok());
    scores.push_back(pieces[id].second);
  }
  auto model = Unigram::Create(vocab, scores, 0, false);
  ASSERT_TRUE(model.ok());
  auto run = [&](const Unigram& m, std::string_view text) {
    std::vector<Piece> out;
    m.Tokenize(text, 0, static_cast<uint32_t>(text.size()), &out);
    std::vector<std::pair<int32_t, std::string>> result;
    for (const Piece& p : out)
      result.emplace_back(p.id, std::string(text.substr(p.begin, p.end - p.begin)));
    return result;
  };
  using R = std::vector<std::pair<int32_t, std::string>>;
  // Ties keep the path found first: "ab" (-2) is reached from position 0
  // before "a" + "b" (-2) is, and "abc" (-3.5) before "ab" + "c" (-3.5).
  EXPECT_EQ(run(*model, "ab"), (R{{3, "ab"}}));
  EXPECT_EQ(run(*model, "abc"), (R{{4, "abc"}}));
  EXPECT_EQ(run(*model, "bab"), (R{{2, "b"}, {3, "ab"}}));
  // Unknown characters (score -3.5 - 10) fuse into one token.
  EXPECT_EQ(run(*model,
                "xy\xC3\xA9"
                "a"),
            (R{{0, "xy\xC3\xA9"}, {1, "a"}}));
  auto fallback = Unigram::Create(vocab, scores, 0, true);
  ASSERT_TRUE(fallback.ok());
  // Byte fallback applies only when every byte has a token.
  EXPECT_EQ(run(*fallback, "xa"), (R{{6, "x"}, {1, "a"}}));
  EXPECT_EQ(run(*fallback, "xya"), (R{{0, "xy"}, {1, "a"}}));
}

TEST(UnigramTest, RefusesBadModels) {
  Vocab vocab;
  ASSERT_TRUE(vocab.Add("a", 0).ok());
  EXPECT_FALSE(Unigram::Create(vocab, {std::nan("")}, 0, false).ok());
  EXPECT_FALSE(Unigram::Create(vocab, {-1.0}, 3, false).ok());
}

struct Encoded {
  std::vector<int32_t> ids;
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  std::vector<std::string> unknown;
};

Encoded Encode(const Tokenizer& tokenizer, std::string_view text) {
  Encoding encoding;
  EXPECT_TRUE(tokenizer.Encode(text, nullptr, EncodeOptions{}, &encoding).ok());
  Encoded out{encoding.ids, {}, {}};
  for (const Offset& o : encoding.offsets) out.offsets.emplace_back(o.begin, o.end);
  for (const auto& [index, token] : encoding.token_texts) out.unknown.push_back(token);
  return out;
}

TEST(UnigramTokenizerTest, T5MatchesHuggingFace) {
  auto loaded = Tokenizer::Load(kT5);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  using O = std::vector<std::pair<uint32_t, uint32_t>>;
  Encoded a = Encode(
      *loaded, "Hello world, \xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C-width \xE2\x91\xA0!");
  EXPECT_EQ(a.ids, (std::vector<int32_t>{8774, 296, 6, 423, 18, 12018, 189, 209, 55, 1}));
  EXPECT_EQ(a.offsets, (O{{0, 5},
                          {6, 11},
                          {11, 12},
                          {13, 25},
                          {25, 26},
                          {26, 29},
                          {29, 31},
                          {32, 35},
                          {35, 36},
                          {0, 0}}));
  Encoded b = Encode(
      *loaded,
      "R\xC3\xA9sum\xC3\xA9  na\xC3\xAFve\tcaf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  EXPECT_EQ(b.ids, (std::vector<int32_t>{6272, 4078, 154, 3, 29, 9, 2, 162, 11949, 3, 2, 1}));
  EXPECT_EQ(b.offsets, (O{{0, 3},
                          {3, 6},
                          {6, 8},
                          {10, 11},
                          {10, 11},
                          {11, 12},
                          {12, 14},
                          {14, 16},
                          {17, 22},
                          {23, 26},
                          {23, 32},
                          {0, 0}}));
  EXPECT_EQ(b.unknown,
            (std::vector<std::string>{"\xC3\xAF", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"}));
  Encoded c = Encode(*loaded, "<extra_id_0> is</s>");
  EXPECT_EQ(c.ids, (std::vector<int32_t>{32099, 19, 1, 1}));
  EXPECT_EQ(c.offsets, (O{{0, 12}, {13, 15}, {15, 19}, {0, 0}}));
}

std::string TinyTokenizerJson(const json& normalizer) {
  json vocab = json::array({json::array({"<pad>", 0.0}), json::array({"</s>", 0.0}),
                            json::array({"<unk>", 0.0}), json::array({"\xE2\x96\x81", -2.0}),
                            json::array({"\xE2\x96\x81"
                                         "ab",
                                         -6.0}),
                            json::array({"a", -4.0})});
  json root = {{"normalizer", normalizer},
               {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}}},
               {"post_processor", nullptr},
               {"model", {{"type", "Unigram"}, {"unk_id", 2}, {"vocab", vocab}}}};
  return root.dump();
}

TEST(UnigramTokenizerTest, RefusesHostileFiles) {
  auto load = [](const std::string& text) {
    return Tokenizer::FromMemory(text, "", "", "test").status();
  };
  const std::string charsmap = Base64Encode(BuildCharsmap(kEntries));
  const json precompiled = {{"type", "Precompiled"}, {"precompiled_charsmap", charsmap}};
  EXPECT_TRUE(load(TinyTokenizerJson(precompiled)).ok())
      << load(TinyTokenizerJson(precompiled)).ToString();
  EXPECT_FALSE(
      load(TinyTokenizerJson({{"type", "Precompiled"}, {"precompiled_charsmap", "@@not base64"}}))
          .ok());
  const std::string truncated = Base64Encode(BuildCharsmap(kEntries).substr(0, 40));
  EXPECT_FALSE(
      load(TinyTokenizerJson({{"type", "Precompiled"}, {"precompiled_charsmap", truncated}})).ok());
  std::string text = TinyTokenizerJson(nullptr);
  EXPECT_FALSE(load(text.substr(0, text.size() / 2)).ok());  // malformed JSON
  std::string infinite = text;
  infinite.replace(infinite.find("-2.0"), 4, "1e999");
  EXPECT_FALSE(load(infinite).ok());
  json root = json::parse(text);
  root["model"]["vocab"][3][0] = std::string(100000, 'a');
  EXPECT_FALSE(load(root.dump()).ok());
  root = json::parse(text);
  root["model"]["vocab"][3][0] = "";
  EXPECT_FALSE(load(root.dump()).ok());
  root = json::parse(text);
  root["model"]["unk_id"] = 99;
  EXPECT_FALSE(load(root.dump()).ok());
  root = json::parse(text);
  root["model"]["vocab"][3] = "piece";
  EXPECT_FALSE(load(root.dump()).ok());
}

}  // namespace
}  // namespace mg::text
