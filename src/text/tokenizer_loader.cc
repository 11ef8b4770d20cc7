// Reads tokenizer files into a Tokenizer: a model folder, a tokenizer.json, a
// vocab.txt or a vocab.json. Mirrors how Hugging Face's fast tokenizers set
// themselves up from the same files. The byte-level BPE parts are in
// bpe_loader.cc.
#include "text/tokenizer_loader.h"

#include <sys/stat.h>

#include "base/file.h"
#include "base/json_limits.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace mg::text {

using nlohmann::json;

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// "[CLS] $A [SEP]" and "[CLS] $A [SEP] $B [SEP]" around the given ids.
void BertTemplates(int32_t cls, int32_t sep, std::vector<TemplatePiece>* single,
                   std::vector<TemplatePiece>* pair) {
  TemplatePiece cls_piece{false, 0, {cls}, 0};
  TemplatePiece sep0{false, 0, {sep}, 0};
  TemplatePiece sep1{false, 0, {sep}, 1};
  TemplatePiece seq_a{true, 0, {}, 0};
  TemplatePiece seq_b{true, 1, {}, 1};
  *single = {cls_piece, seq_a, sep0};
  *pair = {cls_piece, seq_a, sep0, seq_b, sep1};
}

}  // namespace

Result<json> ParseJsonObject(std::string_view contents, const std::string& path) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(contents).WithContext(path));
  json parsed = json::parse(contents, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return CorruptionError(path + ": not valid JSON");
  if (!parsed.is_object()) return CorruptionError(path + ": expected a JSON object");
  return parsed;
}

Result<json> ReadJson(const std::string& path) {
  MG_ASSIGN_OR_RETURN(std::string contents, ReadFile(path));
  return ParseJsonObject(contents, path);
}

std::optional<std::string> TokenString(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto content = it->find("content");
    if (content != it->end() && content->is_string()) return content->get<std::string>();
  }
  return std::nullopt;
}

std::optional<bool> OptionalBool(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

Result<AddedToken> ParseAddedToken(const json& entry, const std::string& where) {
  if (!entry.is_object()) return CorruptionError(where + ": added token is not an object");
  AddedToken token;
  auto content = entry.find("content");
  if (content == entry.end() || !content->is_string()) {
    return CorruptionError(where + ": added token without \"content\"");
  }
  token.content = content->get<std::string>();
  auto id = entry.find("id");
  if (id != entry.end()) {
    if (!id->is_number_integer())
      return CorruptionError(where + ": added token id is not an integer");
    token.id = id->get<int32_t>();
  }
  token.special = OptionalBool(entry, "special").value_or(false);
  token.single_word = OptionalBool(entry, "single_word").value_or(false);
  token.lstrip = OptionalBool(entry, "lstrip").value_or(false);
  token.rstrip = OptionalBool(entry, "rstrip").value_or(false);
  token.normalized = OptionalBool(entry, "normalized").value_or(!token.special);
  return token;
}

// An integer that fits int32_t (get<int32_t>() of any other number is
// undefined behaviour); `fallback` when absent.
Result<int32_t> Int32Field(const json& object, const char* key, int32_t fallback) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  const json& value = object[key];
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{INT32_MAX}) ||
      (!value.is_number_unsigned() &&
       (value.get<int64_t>() < INT32_MIN || value.get<int64_t>() > INT32_MAX))) {
    return CorruptionError(std::string("post_processor ") + key + " is not a 32-bit integer");
  }
  return static_cast<int32_t>(value.get<int64_t>());
}

// `sequences` is 1 for the single template ($A), 2 for the pair ($A, $B).
Result<std::vector<TemplatePiece>> ParseTemplate(const json& pieces, const json& special_tokens,
                                                 const Vocab& vocab, int sequences) {
  if (!pieces.is_array()) return CorruptionError("post_processor template is not a list");
  std::vector<TemplatePiece> result;
  int uses[2] = {0, 0};
  for (const json& entry : pieces) {
    TemplatePiece piece;
    if (entry.contains("Sequence")) {
      const json& seq = entry["Sequence"];
      piece.is_sequence = true;
      const json id = seq.contains("id") ? seq["id"] : json();
      if (id != "A" && id != "B") {
        return CorruptionError("post_processor template names a sequence other than A or B");
      }
      piece.sequence = id == "B" ? 1 : 0;
      ++uses[piece.sequence];
      MG_ASSIGN_OR_RETURN(piece.type_id, Int32Field(seq, "type_id", 0));
    } else if (entry.contains("SpecialToken")) {
      const json& special = entry["SpecialToken"];
      std::string name = special.value("id", "");
      MG_ASSIGN_OR_RETURN(piece.type_id, Int32Field(special, "type_id", 0));
      auto it = special_tokens.find(name);
      if (it != special_tokens.end() && it->contains("ids") && (*it)["ids"].is_array()) {
        for (const json& id : (*it)["ids"]) {
          MG_ASSIGN_OR_RETURN(int32_t value, Int32Field(json{{"ids", id}}, "ids", 0));
          piece.ids.push_back(value);
        }
      } else if (vocab.TokenToId(name) >= 0) {
        piece.ids.push_back(vocab.TokenToId(name));
      } else {
        return CorruptionError("post_processor names unknown special token \"" + name + "\"");
      }
    } else {
      return CorruptionError("post_processor template entry is neither Sequence nor SpecialToken");
    }
    result.push_back(std::move(piece));
  }
  // Truncation leaves room for the special tokens only: each text must
  // appear exactly once, or max_length would not bound the encoding.
  if (uses[0] != 1 || uses[1] != (sequences == 2 ? 1 : 0)) {
    return CorruptionError(sequences == 2
                               ? "post_processor pair template must hold A and B once each"
                               : "post_processor single template must hold A once and no B");
  }
  return result;
}

Status ReadAddedTokens(const json& root, const std::string& path, Vocab* vocab,
                       std::vector<AddedToken>* added) {
  for (const json& entry : root.value("added_tokens", json::array())) {
    MG_ASSIGN_OR_RETURN(AddedToken token, ParseAddedToken(entry, path));
    added->push_back(std::move(token));
  }
  for (const AddedToken& token : *added) {
    if (token.id >= 0 && vocab->TokenToId(token.content) < 0) {
      MG_RETURN_IF_ERROR(vocab->Add(token.content, token.id).WithContext(path));
    }
  }
  return Status::Ok();
}

Status ParseTemplates(const json& post, const Vocab& vocab, std::vector<TemplatePiece>* single,
                      std::vector<TemplatePiece>* pair) {
  const json& specials = post.value("special_tokens", json::object());
  MG_ASSIGN_OR_RETURN(*single, ParseTemplate(post.at("single"), specials, vocab, 1));
  MG_ASSIGN_OR_RETURN(*pair, ParseTemplate(post.at("pair"), specials, vocab, 2));
  return Status::Ok();
}

Status TokenizerLoader::Finish(Tokenizer* tokenizer, const BertNormalizerOptions& normalizer,
                               const WordPieceOptions* wordpiece, std::vector<AddedToken> added,
                               const json* config, const TokenizerOverrides& overrides) {
  BertNormalizerOptions options = normalizer;
  if (overrides.lowercase) {
    options.lowercase = *overrides.lowercase;
    if (!overrides.strip_accents) options.strip_accents = options.lowercase;
  }
  if (overrides.strip_accents) options.strip_accents = *overrides.strip_accents;
  if (overrides.handle_chinese_chars)
    options.handle_chinese_chars = *overrides.handle_chinese_chars;
  tokenizer->normalizer_ = std::make_unique<BertNormalizer>(options);

  // Added tokens take the vocabulary's id for their content, or a new id.
  std::vector<std::string> raw_patterns;
  std::vector<AddedToken> raw_tokens;
  std::vector<std::string> norm_patterns;
  std::vector<AddedToken> norm_tokens;
  for (AddedToken& token : added) {
    if (token.content.empty()) continue;
    int32_t existing = tokenizer->vocab_.TokenToId(token.content);
    if (token.id < 0)
      token.id = existing >= 0 ? existing : static_cast<int32_t>(tokenizer->vocab_.size());
    if (existing < 0) MG_RETURN_IF_ERROR(tokenizer->vocab_.Add(token.content, token.id));
    if (token.normalized && tokenizer->has_normalizer_) {
      NormalizedText norm;
      tokenizer->Normalize(token.content, 0, token.content.size(), &norm);
      if (norm.text.empty()) {
        tokenizer->added_tokens_.push_back(token);
        continue;
      }
      norm_patterns.push_back(norm.text);
      norm_tokens.push_back(token);
    } else {
      raw_patterns.push_back(token.content);
      raw_tokens.push_back(token);
    }
    tokenizer->added_tokens_.push_back(token);
  }
  tokenizer->raw_added_ = AddedTokenMatcher(std::move(raw_patterns), std::move(raw_tokens));
  tokenizer->normalized_added_ =
      AddedTokenMatcher(std::move(norm_patterns), std::move(norm_tokens));

  if (wordpiece) {
    MG_ASSIGN_OR_RETURN(WordPiece model, WordPiece::Create(tokenizer->vocab_, *wordpiece));
    tokenizer->model_ = std::make_unique<WordPiece>(std::move(model));
  }
  for (const TemplatePiece& piece : tokenizer->pair_template_) {
    if (piece.is_sequence && piece.sequence == 1) tokenizer->pair_type_id_ = piece.type_id;
  }
  for (const AddedToken& token : added) {
    if (token.id < 0 || !(token.lstrip || token.rstrip)) continue;
    if (tokenizer->strip_sides_.size() <= static_cast<size_t>(token.id))
      tokenizer->strip_sides_.resize(static_cast<size_t>(token.id) + 1, 0);
    tokenizer->strip_sides_[token.id] = (token.lstrip ? 1 : 0) | (token.rstrip ? 2 : 0);
  }
  if (tokenizer->trim_offsets_) {
    // Spaces at the ends of each token, counted in characters as Hugging
    // Face does ('Ġ' stands for a space byte). Added tokens are trimmed where
    // they are matched instead.
    const size_t size = tokenizer->vocab_.size();
    tokenizer->leading_spaces_.assign(size, 0);
    tokenizer->trailing_spaces_.assign(size, 0);
    for (size_t id = 0; id < size; ++id) {
      Tokenizer::CountSpaces(tokenizer->vocab_.IdToToken(static_cast<int32_t>(id)),
                             &tokenizer->leading_spaces_[id], &tokenizer->trailing_spaces_[id]);
    }
    for (const AddedToken& token : added) {
      if (token.id < 0 || static_cast<size_t>(token.id) >= size) continue;
      tokenizer->leading_spaces_[token.id] = 0;
      tokenizer->trailing_spaces_[token.id] = 0;
    }
  }

  if (config) {
    auto it = config->find("model_max_length");
    if (it != config->end() && it->is_number()) {
      double value = it->get<double>();
      if (value > 0 && value < 1e9) tokenizer->model_max_length_ = static_cast<size_t>(value);
    }
    if (auto pad = TokenString(*config, "pad_token")) {
      int32_t id = tokenizer->vocab_.TokenToId(*pad);
      if (id >= 0) tokenizer->pad_id_ = id;
    }
  }
  if (!config || !TokenString(*config, "pad_token")) {
    for (const char* pad : {"[PAD]", "<pad>"}) {
      const int32_t id = tokenizer->vocab_.TokenToId(pad);
      if (id >= 0) {
        tokenizer->pad_id_ = id;
        break;
      }
    }
  }
  return Status::Ok();
}

Result<Tokenizer> TokenizerLoader::FromVocabTxt(const std::string& path, const json* config,
                                                const TokenizerOverrides& overrides) {
  MG_ASSIGN_OR_RETURN(std::string contents, ReadFile(path));
  return FromVocabTxtText(contents, path, config, overrides);
}

Result<Tokenizer> TokenizerLoader::FromVocabTxtText(std::string_view contents,
                                                    const std::string& path, const json* config,
                                                    const TokenizerOverrides& overrides) {
  Tokenizer tokenizer;
  MG_ASSIGN_OR_RETURN(tokenizer.vocab_, Vocab::FromVocabTxt(contents, path));

  BertNormalizerOptions normalizer;
  WordPieceOptions model;
  std::string cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", mask = "[MASK]";
  std::vector<AddedToken> added;
  if (config) {
    normalizer.lowercase = OptionalBool(*config, "do_lower_case").value_or(true);
    normalizer.handle_chinese_chars =
        OptionalBool(*config, "tokenize_chinese_chars").value_or(true);
    normalizer.strip_accents =
        OptionalBool(*config, "strip_accents").value_or(normalizer.lowercase);
    model.unk_token = TokenString(*config, "unk_token").value_or(model.unk_token);
    cls = TokenString(*config, "cls_token").value_or(cls);
    sep = TokenString(*config, "sep_token").value_or(sep);
    pad = TokenString(*config, "pad_token").value_or(pad);
    mask = TokenString(*config, "mask_token").value_or(mask);
    auto decoder = config->find("added_tokens_decoder");
    if (decoder != config->end() && decoder->is_object()) {
      for (const auto& [key, entry] : decoder->items()) {
        MG_ASSIGN_OR_RETURN(AddedToken token,
                            ParseAddedToken(entry, path + " added_tokens_decoder"));
        try {
          token.id = std::stoi(key);
        } catch (const std::exception&) {
          return CorruptionError("tokenizer_config.json: added token id \"" + key +
                                 "\" is not a number");
        }
        added.push_back(std::move(token));
      }
    }
  }
  for (const std::string* special : {&pad, &model.unk_token, &cls, &sep, &mask}) {
    if (tokenizer.vocab_.TokenToId(*special) < 0) continue;
    AddedToken token;
    token.content = *special;
    token.special = true;
    token.normalized = false;
    added.push_back(token);
  }
  int32_t cls_id = tokenizer.vocab_.TokenToId(cls);
  int32_t sep_id = tokenizer.vocab_.TokenToId(sep);
  if (cls_id < 0 || sep_id < 0) {
    return CorruptionError(path + ": the vocabulary lacks \"" + (cls_id < 0 ? cls : sep) + "\"");
  }
  BertTemplates(cls_id, sep_id, &tokenizer.single_template_, &tokenizer.pair_template_);
  MG_RETURN_IF_ERROR(Finish(&tokenizer, normalizer, &model, std::move(added), config, overrides));
  return tokenizer;
}

Result<Tokenizer> TokenizerLoader::FromTokenizerJson(const std::string& path, const json* config,
                                                     const TokenizerOverrides& overrides) {
  MG_ASSIGN_OR_RETURN(std::string contents, ReadFile(path));
  return FromTokenizerJsonText(contents, path, config, overrides);
}

Result<Tokenizer> TokenizerLoader::FromTokenizerJsonText(std::string_view contents,
                                                         const std::string& path,
                                                         const json* config,
                                                         const TokenizerOverrides& overrides) {
  MG_ASSIGN_OR_RETURN(json root, ParseJsonObject(contents, path));
  Tokenizer tokenizer;
  try {
    const json& model = root.at("model");
    // Older files leave the type out; BPE is the model with merges, Unigram
    // the one whose vocabulary is a list of [piece, score].
    const std::string type =
        model.value("type", model.contains("merges")                               ? "BPE"
                            : model.contains("vocab") && model["vocab"].is_array() ? "Unigram"
                                                                                   : "WordPiece");
    if (type == "BPE") return FromBpeTokenizerJson(root, path, config);
    if (type == "Unigram") return FromUnigramTokenizerJson(root, path, config);
    if (type != "WordPiece") {
      return UnimplementedError(path + ": model type \"" + type +
                                "\" is not supported (WordPiece, BPE or Unigram)");
    }
    WordPieceOptions model_options;
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      model_options.unk_token = model["unk_token"].get<std::string>();
    }
    if (model.contains("continuing_subword_prefix") &&
        model["continuing_subword_prefix"].is_string()) {
      model_options.continuing_subword_prefix =
          model["continuing_subword_prefix"].get<std::string>();
    }
    if (model.contains("max_input_chars_per_word") &&
        model["max_input_chars_per_word"].is_number_unsigned()) {
      model_options.max_input_chars_per_word = model["max_input_chars_per_word"].get<size_t>();
    }
    const json& vocab = model.at("vocab");
    if (!vocab.is_object()) return CorruptionError(path + ": model.vocab is not an object");
    for (const auto& [token, id] : vocab.items()) {
      if (!id.is_number_integer())
        return CorruptionError(path + ": vocab id of \"" + token + "\" is not an integer");
      MG_RETURN_IF_ERROR(tokenizer.vocab_.Add(token, id.get<int32_t>()).WithContext(path));
    }
    if (tokenizer.vocab_.count() == 0) return CorruptionError(path + ": empty vocabulary");

    BertNormalizerOptions normalizer;
    const json& norm = root.value("normalizer", json());
    if (norm.is_null()) {
      tokenizer.has_normalizer_ = false;
      normalizer = {false, false, false, false};
    } else {
      const std::string norm_type = norm.value("type", "");
      if (norm_type != "BertNormalizer") {
        return UnimplementedError(path + ": normalizer \"" + norm_type +
                                  "\" is not supported (BertNormalizer only)");
      }
      normalizer.clean_text = norm.value("clean_text", true);
      normalizer.handle_chinese_chars = norm.value("handle_chinese_chars", true);
      normalizer.lowercase = norm.value("lowercase", true);
      const json& strip = norm.value("strip_accents", json());
      normalizer.strip_accents = strip.is_boolean() ? strip.get<bool>() : normalizer.lowercase;
    }
    // transformers' BertTokenizerFast lets tokenizer_config.json override these.
    if (config && tokenizer.has_normalizer_) {
      if (auto v = OptionalBool(*config, "do_lower_case")) normalizer.lowercase = *v;
      if (auto v = OptionalBool(*config, "tokenize_chinese_chars"))
        normalizer.handle_chinese_chars = *v;
      auto strip = config->find("strip_accents");
      if (strip != config->end() && strip->is_boolean()) {
        normalizer.strip_accents = strip->get<bool>();
      } else if (config->contains("do_lower_case")) {
        normalizer.strip_accents = normalizer.lowercase;
      }
    }

    const json& pre = root.value("pre_tokenizer", json());
    if (pre.is_null()) {
      tokenizer.pre_tokenizer_ = Tokenizer::PreTokenizer::kNone;
    } else if (pre.value("type", "") == "Whitespace") {
      tokenizer.pre_tokenizer_ = Tokenizer::PreTokenizer::kWhitespace;
    } else if (pre.value("type", "") != "BertPreTokenizer") {
      return UnimplementedError(path + ": pre_tokenizer \"" + pre.value("type", "") +
                                "\" is not supported (BertPreTokenizer or Whitespace)");
    }

    std::vector<AddedToken> added;
    MG_RETURN_IF_ERROR(ReadAddedTokens(root, path, &tokenizer.vocab_, &added));

    const json& post = root.value("post_processor", json());
    if (!post.is_null()) {
      const std::string post_type = post.value("type", "");
      if (post_type == "TemplateProcessing") {
        MG_RETURN_IF_ERROR(ParseTemplates(post, tokenizer.vocab_, &tokenizer.single_template_,
                                          &tokenizer.pair_template_));
      } else if (post_type == "BertProcessing") {
        BertTemplates(post.at("cls").at(1).get<int32_t>(), post.at("sep").at(1).get<int32_t>(),
                      &tokenizer.single_template_, &tokenizer.pair_template_);
      } else {
        return UnimplementedError(path + ": post_processor \"" + post_type + "\" is not supported");
      }
    } else {
      tokenizer.single_template_ = {TemplatePiece{true, 0, {}, 0}};
      tokenizer.pair_template_ = {TemplatePiece{true, 0, {}, 0}, TemplatePiece{true, 1, {}, 1}};
    }
    MG_RETURN_IF_ERROR(
        Finish(&tokenizer, normalizer, &model_options, std::move(added), config, overrides));
  } catch (const json::exception& e) {
    return CorruptionError(path + ": unexpected structure: " + e.what());
  }
  return tokenizer;
}

Result<Tokenizer> TokenizerLoader::Load(const std::string& source,
                                        const TokenizerOverrides& overrides) {
  Result<Tokenizer> loaded = InternalError("unreachable");
  if (IsDirectory(source)) {
    std::optional<json> config;
    const std::string config_path = JoinPath(source, "tokenizer_config.json");
    if (FileExists(config_path)) {
      MG_ASSIGN_OR_RETURN(config, ReadJson(config_path));
    }
    const json* config_ptr = config ? &*config : nullptr;
    const std::string json_path = JoinPath(source, "tokenizer.json");
    const std::string vocab_path = JoinPath(source, "vocab.txt");
    const std::string vocab_json_path = JoinPath(source, "vocab.json");
    if (FileExists(json_path)) {
      loaded = FromTokenizerJson(json_path, config_ptr, overrides);
    } else if (FileExists(vocab_path)) {
      loaded = FromVocabTxt(vocab_path, config_ptr, overrides);
    } else if (FileExists(vocab_json_path)) {
      loaded = FromVocabJson(vocab_json_path, config_ptr);
    } else {
      return NotFoundError(source + ": no tokenizer.json, vocab.txt or vocab.json in this folder");
    }
  } else if (!FileExists(source)) {
    return NotFoundError(source + ": no such file or folder");
  } else if (source == "vocab.json" ||
             (source.size() > 11 && source.compare(source.size() - 11, 11, "/vocab.json") == 0)) {
    loaded = FromVocabJson(source, nullptr);
  } else if (source.size() >= 5 && source.compare(source.size() - 5, 5, ".json") == 0) {
    loaded = FromTokenizerJson(source, nullptr, overrides);
  } else {
    loaded = FromVocabTxt(source, nullptr, overrides);
  }
  return loaded;
}

Result<Tokenizer> TokenizerLoader::FromMemory(std::string_view tokenizer_json,
                                              std::string_view vocab_txt,
                                              std::string_view tokenizer_config,
                                              const std::string& name) {
  std::optional<json> config;
  if (!tokenizer_config.empty()) {
    MG_ASSIGN_OR_RETURN(config, ParseJsonObject(tokenizer_config, name + "/tokenizer_config.json"));
  }
  const json* config_ptr = config ? &*config : nullptr;
  if (!tokenizer_json.empty()) {
    return FromTokenizerJsonText(tokenizer_json, name + "/tokenizer.json", config_ptr, {});
  }
  if (!vocab_txt.empty()) return FromVocabTxtText(vocab_txt, name + "/vocab.txt", config_ptr, {});
  return NotFoundError(name + ": no tokenizer.json or vocab.txt");
}

Result<Tokenizer> Tokenizer::FromMemory(std::string_view tokenizer_json, std::string_view vocab_txt,
                                        std::string_view tokenizer_config,
                                        const std::string& name) {
  return TokenizerLoader::FromMemory(tokenizer_json, vocab_txt, tokenizer_config, name);
}

Result<Tokenizer> Tokenizer::Load(const std::string& source, const TokenizerOverrides& overrides) {
  return TokenizerLoader::Load(source, overrides);
}

}  // namespace mg::text
