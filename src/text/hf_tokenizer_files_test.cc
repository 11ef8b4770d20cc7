// The tokenizer.json written for a vocab.txt tokenizer against Hugging Face's
// own tokenizer.json for the same vocabulary, and read back by the loader.
#include "text/hf_tokenizer_files.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "text/tokenizer.h"

namespace mg::text {
namespace {

using nlohmann::json;

const std::string kData = "tests/data/vocab/";

// Hugging Face writes strip_accents null for "follow lowercase".
json Normalizer(json normalizer) {
  if (normalizer["strip_accents"].is_null()) normalizer["strip_accents"] = normalizer["lowercase"];
  return normalizer;
}

TEST(HfTokenizerFilesTest, MatchesHuggingFacesTokenizerJson) {
  Tokenizer tokenizer = Tokenizer::Load(kData + "bert-base-uncased/vocab.txt").value();
  const json ours = json::parse(HfTokenizerFiles::TokenizerJson(tokenizer).value());
  const json hf = json::parse(ReadFile(kData + "bert-base-uncased/tokenizer.json").value());
  EXPECT_EQ(ours["model"]["type"], "WordPiece");
  EXPECT_EQ(ours["model"]["vocab"], hf["model"]["vocab"]);
  EXPECT_EQ(ours["model"]["unk_token"], hf["model"]["unk_token"]);
  EXPECT_EQ(ours["model"]["continuing_subword_prefix"], hf["model"]["continuing_subword_prefix"]);
  EXPECT_EQ(ours["model"]["max_input_chars_per_word"], hf["model"]["max_input_chars_per_word"]);
  EXPECT_EQ(ours["added_tokens"], hf["added_tokens"]);
  EXPECT_EQ(Normalizer(ours["normalizer"]), Normalizer(hf["normalizer"]));
  EXPECT_EQ(ours["pre_tokenizer"], hf["pre_tokenizer"]);
  EXPECT_EQ(ours["post_processor"], hf["post_processor"]);
  EXPECT_EQ(ours["decoder"], hf["decoder"]);
  EXPECT_TRUE(ours["padding"].is_null());
  EXPECT_TRUE(ours["truncation"].is_null());
}

// Cased vocabulary, tokenizer_config.json beside the written tokenizer.json:
// the same ids, type ids and offsets as the vocab.txt it came from.
TEST(HfTokenizerFilesTest, WrittenFilesTokenizeLikeTheSource) {
  TokenizerOverrides cased;
  cased.lowercase = false;
  for (const auto& [name, overrides] : std::vector<std::pair<std::string, TokenizerOverrides>>{
           {"bert-base-uncased", {}}, {"bert-base-cased", cased}, {"bert-base-chinese", {}}}) {
    SCOPED_TRACE(name);
    Tokenizer source = Tokenizer::Load(kData + name + "/vocab.txt", overrides).value();
    const std::string tokenizer_json = HfTokenizerFiles::TokenizerJson(source).value();
    const std::string config = HfTokenizerFiles::TokenizerConfigJson(source, 512);
    Tokenizer reread = Tokenizer::FromMemory(tokenizer_json, "", config, name).value();
    EXPECT_EQ(reread.model_max_length(), 512u);
    EXPECT_EQ(reread.normalizer_options().lowercase, source.normalizer_options().lowercase);
    const std::string pair = "Refunds take five days.";
    for (const std::string text :
         {"Héllo, World! [MASK] isn't it?", "中文 and emoji 😀 tokens", "  spaced\tout\n",
          "unaffable antidisestablishmentarianism [SEP] x", ""}) {
      SCOPED_TRACE(text);
      Encoding want, got;
      const std::string_view pair_view = pair;
      ASSERT_TRUE(source.Encode(text, &pair_view, {}, &want).ok());
      ASSERT_TRUE(reread.Encode(text, &pair_view, {}, &got).ok());
      EXPECT_EQ(got.ids, want.ids);
      EXPECT_EQ(got.type_ids, want.type_ids);
      ASSERT_EQ(got.offsets.size(), want.offsets.size());
      for (size_t i = 0; i < got.offsets.size(); ++i) {
        EXPECT_EQ(got.offsets[i].begin, want.offsets[i].begin);
        EXPECT_EQ(got.offsets[i].end, want.offsets[i].end);
      }
    }
  }
}

TEST(HfTokenizerFilesTest, ConfigAndSpecialTokensMap) {
  TokenizerOverrides cased;
  cased.lowercase = false;
  Tokenizer tokenizer = Tokenizer::Load(kData + "bert-base-cased/vocab.txt", cased).value();
  const json config = json::parse(HfTokenizerFiles::TokenizerConfigJson(tokenizer, 128));
  EXPECT_EQ(config["tokenizer_class"], "BertTokenizer");
  EXPECT_EQ(config["do_lower_case"], false);
  EXPECT_EQ(config["model_max_length"], 128);
  EXPECT_EQ(config["cls_token"], "[CLS]");
  EXPECT_EQ(config["unk_token"], "[UNK]");
  const json map = json::parse(HfTokenizerFiles::SpecialTokensMapJson(tokenizer));
  EXPECT_EQ(map, json({{"unk_token", "[UNK]"},
                       {"sep_token", "[SEP]"},
                       {"pad_token", "[PAD]"},
                       {"cls_token", "[CLS]"},
                       {"mask_token", "[MASK]"}}));
}

TEST(HfTokenizerFilesTest, ByteLevelBpeIsRefused) {
  Tokenizer tokenizer = Tokenizer::Load(kData + "roberta-base/tokenizer.json").value();
  Result<std::string> written = HfTokenizerFiles::TokenizerJson(tokenizer);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace mg::text
