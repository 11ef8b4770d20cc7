// TokenizerLoader: builds a Tokenizer from Hugging Face tokenizer files. An
// internal header of the text module, shared by tokenizer_loader.cc (files,
// WordPiece) and bpe_loader.cc (byte-level BPE); not for other modules.
//
// Stateless; every function is thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace mg::text {

class TokenizerLoader {
 public:
  static Result<Tokenizer> Load(const std::string& source, const TokenizerOverrides& overrides);
  static Result<Tokenizer> FromMemory(std::string_view tokenizer_json, std::string_view vocab_txt,
                                      std::string_view tokenizer_config, const std::string& name);

 private:
  using json = nlohmann::json;
  static Result<Tokenizer> FromTokenizerJson(const std::string& path, const json* config,
                                             const TokenizerOverrides& overrides);
  static Result<Tokenizer> FromVocabTxt(const std::string& path, const json* config,
                                        const TokenizerOverrides& overrides);
  // The same from file contents; `path` names the file in messages.
  static Result<Tokenizer> FromTokenizerJsonText(std::string_view contents, const std::string& path,
                                                 const json* config,
                                                 const TokenizerOverrides& overrides);
  static Result<Tokenizer> FromVocabTxtText(std::string_view contents, const std::string& path,
                                            const json* config,
                                            const TokenizerOverrides& overrides);
  // A tokenizer.json whose model is BPE (bpe_loader.cc).
  static Result<Tokenizer> FromBpeTokenizerJson(const json& root, const std::string& path,
                                                const json* config);
  // A tokenizer.json whose model is Unigram (unigram_loader.cc).
  static Result<Tokenizer> FromUnigramTokenizerJson(const json& root, const std::string& path,
                                                    const json* config);
  // vocab.json with merges.txt beside it, set up as RobertaTokenizerFast
  // does (bpe_loader.cc).
  static Result<Tokenizer> FromVocabJson(const std::string& path, const json* config);
  // `wordpiece` is null for a BPE tokenizer (bpe_ already set).
  static Status Finish(Tokenizer* tokenizer, const BertNormalizerOptions& normalizer,
                       const WordPieceOptions* wordpiece, std::vector<AddedToken> added,
                       const json* config, const TokenizerOverrides& overrides);
};

// Helpers shared by the loader's files.
Result<nlohmann::json> ParseJsonObject(std::string_view contents, const std::string& path);
Result<nlohmann::json> ReadJson(const std::string& path);
// A special-token entry of tokenizer_config.json: "…" or {"content": "…"}.
std::optional<std::string> TokenString(const nlohmann::json& config, const char* key);
std::optional<bool> OptionalBool(const nlohmann::json& object, const char* key);
Result<AddedToken> ParseAddedToken(const nlohmann::json& entry, const std::string& where);
// Appends the "added_tokens" of a tokenizer.json to `added` and gives every
// one of `added` that has an id and is not in `vocab` its place there.
Status ReadAddedTokens(const nlohmann::json& root, const std::string& path, Vocab* vocab,
                       std::vector<AddedToken>* added);
// A TemplateProcessing post-processor's single and pair templates.
Status ParseTemplates(const nlohmann::json& post, const Vocab& vocab,
                      std::vector<TemplatePiece>* single, std::vector<TemplatePiece>* pair);
// A TemplateProcessing template; `sequences` is 1 for the single template
// ($A once), 2 for the pair ($A and $B once each).
Result<std::vector<TemplatePiece>> ParseTemplate(const nlohmann::json& pieces,
                                                 const nlohmann::json& special_tokens,
                                                 const Vocab& vocab, int sequences);

// "<s> $A </s>" and "<s> $A </s> </s> $B </s>", every type id 0
// (RobertaProcessing).
void RobertaTemplates(int32_t cls, int32_t sep, std::vector<TemplatePiece>* single,
                      std::vector<TemplatePiece>* pair);
// [token, id] of RobertaProcessing's "cls" and "sep".
Result<int32_t> SpecialId(const nlohmann::json& post, const char* key, const std::string& path);

}  // namespace mg::text
