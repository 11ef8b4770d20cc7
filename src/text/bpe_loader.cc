// The byte-level BPE half of TokenizerLoader: a tokenizer.json whose model is
// BPE (RoBERTa, GPT-2, ModernBERT), and a vocab.json with merges.txt, set up
// as transformers' RobertaTokenizerFast does.
#include "base/file.h"
#include "text/tokenizer_loader.h"

namespace mg::text {

using nlohmann::json;

namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;

// model.merges: "left right" strings, or [left, right] pairs.
Result<Merges> ParseMerges(const json& merges, const std::string& path) {
  if (!merges.is_array()) return CorruptionError(path + ": model.merges is not a list");
  Merges result;
  result.reserve(merges.size());
  for (const json& merge : merges) {
    if (merge.is_string()) {
      const std::string& line = merge.get_ref<const std::string&>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        return CorruptionError(path + ": merge \"" + line + "\" is not two tokens");
      }
      result.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      result.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return CorruptionError(path + ": a merge is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return result;
}

bool NonEmptyString(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

}  // namespace

// "<s> $A </s>" and "<s> $A </s> </s> $B </s>", every type id 0.
void RobertaTemplates(int32_t cls, int32_t sep, std::vector<TemplatePiece>* single,
                      std::vector<TemplatePiece>* pair) {
  const TemplatePiece cls_piece{false, 0, {cls}, 0};
  const TemplatePiece sep_piece{false, 0, {sep}, 0};
  const TemplatePiece seq_a{true, 0, {}, 0};
  const TemplatePiece seq_b{true, 1, {}, 0};
  *single = {cls_piece, seq_a, sep_piece};
  *pair = {cls_piece, seq_a, sep_piece, sep_piece, seq_b, sep_piece};
}

// [token, id] of RobertaProcessing's "cls" and "sep".
Result<int32_t> SpecialId(const json& post, const char* key, const std::string& path) {
  const json& entry = post.at(key);
  if (!entry.is_array() || entry.size() != 2 || !entry[1].is_number_integer()) {
    return CorruptionError(path + ": post_processor." + key + " is not [token, id]");
  }
  return entry[1].get<int32_t>();
}

Result<Tokenizer> TokenizerLoader::FromBpeTokenizerJson(const json& root, const std::string& path,
                                                        const json* config) {
  Tokenizer tokenizer;
  std::vector<AddedToken> added;
  Merges merges;
  std::string unk_token;
  try {
    const json& model = root.at("model");
    const json& dropout = model.value("dropout", json());
    if ((dropout.is_number() && dropout.get<double>() != 0.0) ||
        NonEmptyString(model, "continuing_subword_prefix") ||
        NonEmptyString(model, "end_of_word_suffix") || model.value("byte_fallback", false) ||
        model.value("ignore_merges", false)) {
      return UnimplementedError(path +
                                ": BPE with dropout, subword prefix or suffix, byte fallback or "
                                "ignore_merges is not supported");
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      unk_token = model["unk_token"].get<std::string>();
    }
    const json& vocab = model.at("vocab");
    if (!vocab.is_object()) return CorruptionError(path + ": model.vocab is not an object");
    for (const auto& [token, id] : vocab.items()) {
      if (!id.is_number_integer())
        return CorruptionError(path + ": vocab id of \"" + token + "\" is not an integer");
      MG_RETURN_IF_ERROR(tokenizer.vocab_.Add(token, id.get<int32_t>()).WithContext(path));
    }
    if (tokenizer.vocab_.count() == 0) return CorruptionError(path + ": empty vocabulary");
    MG_ASSIGN_OR_RETURN(merges, ParseMerges(model.at("merges"), path));

    const json& norm = root.value("normalizer", json());
    if (norm.is_null()) {
      tokenizer.has_normalizer_ = false;
    } else if (norm.is_object() && norm.value("type", "") == "NFC") {
      tokenizer.nfc_ = true;
    } else {
      return UnimplementedError(path + ": normalizer \"" + norm.value("type", "") +
                                "\" is not supported with BPE (none or NFC)");
    }

    const json& pre = root.value("pre_tokenizer", json());
    if (!pre.is_object() || pre.value("type", "") != "ByteLevel") {
      return UnimplementedError(path + ": BPE is supported with the ByteLevel pre-tokenizer only");
    }
    tokenizer.pre_tokenizer_ = Tokenizer::PreTokenizer::kByteLevel;
    tokenizer.add_prefix_space_ = pre.value("add_prefix_space", true);
    tokenizer.use_regex_ = pre.value("use_regex", true);

    MG_RETURN_IF_ERROR(ReadAddedTokens(root, path, &tokenizer.vocab_, &added));

    const json& post = root.value("post_processor", json());
    const std::string post_type = post.is_object() ? post.value("type", "") : "";
    if (post_type == "RobertaProcessing") {
      MG_ASSIGN_OR_RETURN(int32_t cls, SpecialId(post, "cls", path));
      MG_ASSIGN_OR_RETURN(int32_t sep, SpecialId(post, "sep", path));
      RobertaTemplates(cls, sep, &tokenizer.single_template_, &tokenizer.pair_template_);
      tokenizer.trim_offsets_ = post.value("trim_offsets", true);
      tokenizer.trim_keeps_prefix_space_ = post.value("add_prefix_space", true);
    } else if (post_type == "TemplateProcessing") {
      MG_RETURN_IF_ERROR(ParseTemplates(post, tokenizer.vocab_, &tokenizer.single_template_,
                                        &tokenizer.pair_template_));
    } else if (post.is_null() || post_type == "ByteLevel") {
      tokenizer.single_template_ = {TemplatePiece{true, 0, {}, 0}};
      tokenizer.pair_template_ = {TemplatePiece{true, 0, {}, 0}, TemplatePiece{true, 1, {}, 1}};
      if (post_type == "ByteLevel") {
        tokenizer.trim_offsets_ = post.value("trim_offsets", true);
        tokenizer.trim_keeps_prefix_space_ = post.value("add_prefix_space", true);
      }
    } else {
      return UnimplementedError(path + ": post_processor \"" + post_type +
                                "\" is not supported with BPE");
    }
  } catch (const json::exception& e) {
    return CorruptionError(path + ": unexpected structure: " + e.what());
  }
  Result<Bpe> bpe = Bpe::Create(tokenizer.vocab_, merges, unk_token);
  if (!bpe.ok()) return bpe.status().WithContext(path);
  tokenizer.bpe_ = std::make_unique<Bpe>(std::move(bpe).value());
  MG_RETURN_IF_ERROR(Finish(&tokenizer, BertNormalizerOptions{false, false, false, false}, nullptr,
                            std::move(added), config, {}));
  return tokenizer;
}

Result<Tokenizer> TokenizerLoader::FromVocabJson(const std::string& path, const json* config) {
  const size_t slash = path.rfind('/');
  const std::string merges_path =
      slash == std::string::npos ? "merges.txt" : JoinPath(path.substr(0, slash), "merges.txt");
  MG_ASSIGN_OR_RETURN(json vocab, ReadJson(path));
  MG_ASSIGN_OR_RETURN(std::string merges_text, ReadFile(merges_path));
  MG_ASSIGN_OR_RETURN(Merges merges, Bpe::ParseMergesTxt(merges_text, merges_path));

  Tokenizer tokenizer;
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer())
      return CorruptionError(path + ": id of \"" + token + "\" is not an integer");
    MG_RETURN_IF_ERROR(tokenizer.vocab_.Add(token, id.get<int32_t>()).WithContext(path));
  }
  if (tokenizer.vocab_.count() == 0) return CorruptionError(path + ": empty vocabulary");
  const json no_config = json::object();
  const json& settings = config ? *config : no_config;
  tokenizer.has_normalizer_ = false;
  tokenizer.pre_tokenizer_ = Tokenizer::PreTokenizer::kByteLevel;
  tokenizer.add_prefix_space_ = OptionalBool(settings, "add_prefix_space").value_or(false);
  tokenizer.trim_offsets_ = OptionalBool(settings, "trim_offsets").value_or(true);
  tokenizer.trim_keeps_prefix_space_ = tokenizer.add_prefix_space_;

  // The special tokens RobertaTokenizerFast registers; <mask> absorbs the
  // space before it.
  const std::string cls = TokenString(settings, "cls_token").value_or("<s>");
  const std::string sep = TokenString(settings, "sep_token").value_or("</s>");
  std::vector<AddedToken> added;
  for (const auto& [key, fallback] :
       std::initializer_list<std::pair<const char*, const char*>>{{"bos_token", "<s>"},
                                                                  {"eos_token", "</s>"},
                                                                  {"unk_token", "<unk>"},
                                                                  {"sep_token", "</s>"},
                                                                  {"pad_token", "<pad>"},
                                                                  {"cls_token", "<s>"},
                                                                  {"mask_token", "<mask>"}}) {
    AddedToken token;
    token.content = TokenString(settings, key).value_or(fallback);
    token.special = true;
    token.normalized = false;
    token.lstrip = std::string_view(key) == "mask_token";
    if (tokenizer.vocab_.TokenToId(token.content) >= 0) added.push_back(std::move(token));
  }
  const int32_t cls_id = tokenizer.vocab_.TokenToId(cls);
  const int32_t sep_id = tokenizer.vocab_.TokenToId(sep);
  if (cls_id < 0 || sep_id < 0) {
    return CorruptionError(path + ": the vocabulary lacks \"" + (cls_id < 0 ? cls : sep) + "\"");
  }
  RobertaTemplates(cls_id, sep_id, &tokenizer.single_template_, &tokenizer.pair_template_);
  Result<Bpe> bpe = Bpe::Create(tokenizer.vocab_, merges, "");
  if (!bpe.ok()) return bpe.status().WithContext(path);
  tokenizer.bpe_ = std::make_unique<Bpe>(std::move(bpe).value());
  MG_RETURN_IF_ERROR(Finish(&tokenizer, BertNormalizerOptions{false, false, false, false}, nullptr,
                            std::move(added), config, {}));
  return tokenizer;
}

}  // namespace mg::text
