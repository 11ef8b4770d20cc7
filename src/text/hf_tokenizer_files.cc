#include "text/hf_tokenizer_files.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mg::text {
namespace {

using ordered_json = nlohmann::ordered_json;

// The BERT special tokens by their tokenizer_config.json key, as this
// tokenizer spells them; a key is left out when the vocabulary lacks it.
std::vector<std::pair<std::string, std::string>> SpecialTokens(const Tokenizer& tokenizer) {
  std::vector<std::pair<std::string, std::string>> specials;
  auto add = [&](const char* key, std::string_view token) {
    if (!token.empty() && tokenizer.TokenToId(token) >= 0) specials.emplace_back(key, token);
  };
  if (tokenizer.unk_id() >= 0) add("unk_token", tokenizer.IdToToken(tokenizer.unk_id()));
  add("sep_token", "[SEP]");
  add("pad_token", tokenizer.IdToToken(tokenizer.pad_id()));
  add("cls_token", "[CLS]");
  add("mask_token", "[MASK]");
  return specials;
}

ordered_json TemplateJson(const std::vector<TemplatePiece>& pieces, const Vocab& vocab,
                          ordered_json* special_tokens) {
  ordered_json out = ordered_json::array();
  for (const TemplatePiece& piece : pieces) {
    if (piece.is_sequence) {
      out.push_back(
          {{"Sequence", {{"id", piece.sequence == 1 ? "B" : "A"}, {"type_id", piece.type_id}}}});
      continue;
    }
    std::string name;
    ordered_json tokens = ordered_json::array();
    for (int32_t id : piece.ids) {
      const std::string token(vocab.IdToToken(id));
      name += token;
      tokens.push_back(token);
    }
    out.push_back({{"SpecialToken", {{"id", name}, {"type_id", piece.type_id}}}});
    (*special_tokens)[name] = {{"id", name}, {"ids", piece.ids}, {"tokens", tokens}};
  }
  return out;
}

}  // namespace

Result<std::string> HfTokenizerFiles::TokenizerJson(const Tokenizer& tokenizer) {
  if (!tokenizer.model_) {
    return UnimplementedError(
        "tokenizer.json can be written for a WordPiece tokenizer only (byte-level BPE and Unigram "
        "models keep their own)");
  }
  const Vocab& vocab = tokenizer.vocab_;
  ordered_json root;
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;

  std::vector<AddedToken> added = tokenizer.added_tokens_;
  std::stable_sort(added.begin(), added.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  ordered_json added_json = ordered_json::array();
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken& token = added[i];
    if (i > 0 && added[i - 1].id == token.id) continue;  // listed twice in the files
    added_json.push_back({{"id", token.id},
                          {"content", token.content},
                          {"single_word", token.single_word},
                          {"lstrip", token.lstrip},
                          {"rstrip", token.rstrip},
                          {"normalized", token.normalized},
                          {"special", token.special}});
  }
  root["added_tokens"] = added_json;

  if (tokenizer.has_normalizer_) {
    const BertNormalizerOptions& norm = tokenizer.normalizer_options();
    root["normalizer"] = {{"type", "BertNormalizer"},
                          {"clean_text", norm.clean_text},
                          {"handle_chinese_chars", norm.handle_chinese_chars},
                          {"strip_accents", norm.strip_accents},
                          {"lowercase", norm.lowercase}};
  } else {
    root["normalizer"] = nullptr;
  }
  switch (tokenizer.pre_tokenizer_) {
    case Tokenizer::PreTokenizer::kBert:
      root["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
      break;
    case Tokenizer::PreTokenizer::kWhitespace:
      root["pre_tokenizer"] = {{"type", "Whitespace"}};
      break;
    case Tokenizer::PreTokenizer::kNone:
      root["pre_tokenizer"] = nullptr;
      break;
    case Tokenizer::PreTokenizer::kByteLevel:
      return UnimplementedError("tokenizer.json: a WordPiece model with a ByteLevel pre-tokenizer");
    case Tokenizer::PreTokenizer::kMetaspace:
      return UnimplementedError("tokenizer.json: a WordPiece model with a Metaspace pre-tokenizer");
  }

  ordered_json special_tokens = ordered_json::object();
  ordered_json single = TemplateJson(tokenizer.single_template_, vocab, &special_tokens);
  ordered_json pair = TemplateJson(tokenizer.pair_template_, vocab, &special_tokens);
  root["post_processor"] = {{"type", "TemplateProcessing"},
                            {"single", single},
                            {"pair", pair},
                            {"special_tokens", special_tokens}};

  const WordPieceOptions& options = tokenizer.model_->options();
  root["decoder"] = {
      {"type", "WordPiece"}, {"prefix", options.continuing_subword_prefix}, {"cleanup", true}};
  ordered_json vocab_json = ordered_json::object();
  // Appended to the object's entries directly: ordered_json's operator[]
  // searches the entries one by one, quadratic over a 30,000-token
  // vocabulary. The tokens are unique (checked below).
  auto& entries = static_cast<
      std::vector<ordered_json::object_t::value_type, ordered_json::object_t::allocator_type>&>(
      vocab_json.get_ref<ordered_json::object_t&>());
  entries.reserve(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    const std::string_view token = vocab.IdToToken(static_cast<int32_t>(id));
    // A gap in the ids, or a token listed twice (the later id wins on lookup).
    if (token.empty() || vocab.TokenToId(token) != static_cast<int32_t>(id)) continue;
    entries.emplace_back(std::string(token), id);
  }
  root["model"] = {{"type", "WordPiece"},
                   {"unk_token", options.unk_token},
                   {"continuing_subword_prefix", options.continuing_subword_prefix},
                   {"max_input_chars_per_word", options.max_input_chars_per_word},
                   {"vocab", vocab_json}};
  return root.dump(2) + "\n";
}

std::string HfTokenizerFiles::TokenizerConfigJson(const Tokenizer& tokenizer,
                                                  size_t model_max_length) {
  const BertNormalizerOptions& norm = tokenizer.normalizer_options();
  ordered_json config;
  config["tokenizer_class"] = "BertTokenizer";
  config["do_lower_case"] = norm.lowercase;
  config["tokenize_chinese_chars"] = norm.handle_chinese_chars;
  if (norm.strip_accents != norm.lowercase) {
    config["strip_accents"] = norm.strip_accents;
  } else {
    config["strip_accents"] = nullptr;
  }
  if (model_max_length == 0) model_max_length = tokenizer.model_max_length();
  if (model_max_length > 0) config["model_max_length"] = model_max_length;
  config["clean_up_tokenization_spaces"] = true;
  for (const auto& [key, token] : SpecialTokens(tokenizer)) config[key] = token;
  return config.dump(2) + "\n";
}

std::string HfTokenizerFiles::SpecialTokensMapJson(const Tokenizer& tokenizer) {
  ordered_json map = ordered_json::object();
  for (const auto& [key, token] : SpecialTokens(tokenizer)) map[key] = token;
  return map.dump(2) + "\n";
}

}  // namespace mg::text
