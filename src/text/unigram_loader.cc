// The Unigram half of TokenizerLoader: a tokenizer.json whose model is
// Unigram (T5, XLM-RoBERTa, CamemBERT), with SentencePiece's precompiled
// charsmap, Metaspace and TemplateProcessing or RobertaProcessing.
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "text/tokenizer_loader.h"

namespace mg::text {

using nlohmann::json;

namespace {

// Longest piece accepted: real vocabularies stay far below it.
constexpr size_t kMaxPieceBytes = 4096;

std::string TypeOf(const json& object) {
  if (!object.is_object()) return "";
  auto it = object.find("type");
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// One character of `text`, as a Metaspace replacement or a Replace run.
bool SingleChar(const std::string& text) {
  if (text.empty()) return false;
  const auto lead = static_cast<uint8_t>(text[0]);
  const size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
  return text.size() == length;
}

// A score as Hugging Face reads it. serde_json (without float_roundtrip)
// turns a decimal into digits as a u64 (further digits ignored) and a power
// of ten, then computes (double)digits * or / 10^|exp|: one more rounding
// than a correct parse, so some scores come out one unit in the last place
// away, which decides ties in the segmentation. The digits are those of the
// shortest representation of the correctly parsed value, which is how
// Hugging Face and Python write scores.
double SerdeScore(double parsed) {
  static const auto* kPow10 = [] {
    auto* table = new double[309];
    for (int i = 0; i <= 308; ++i)
      table[i] = std::strtod(("1e" + std::to_string(i)).c_str(), nullptr);
    return table;
  }();
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), parsed);
  if (error != std::errc()) return parsed;
  const std::string_view text(buffer, static_cast<size_t>(end - buffer));
  size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++pos;
  uint64_t significand = 0;
  int exponent = 0;
  bool overflow = false;
  bool fraction = false;
  for (; pos < text.size() && text[pos] != 'e'; ++pos) {
    if (text[pos] == '.') {
      fraction = true;
      continue;
    }
    const auto digit = static_cast<uint64_t>(text[pos] - '0');
    if (!overflow && significand > (UINT64_MAX - digit) / 10) overflow = true;
    if (overflow) {
      if (!fraction) ++exponent;
      continue;
    }
    significand = significand * 10 + digit;
    if (fraction) --exponent;
  }
  if (pos < text.size()) exponent += std::atoi(text.data() + pos + 1);
  double value = static_cast<double>(significand);
  while (true) {
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude <= 308) {
      value = exponent >= 0 ? value * kPow10[magnitude] : value / kPow10[magnitude];
      break;
    }
    if (value == 0.0 || exponent >= 0) break;
    value /= 1e308;
    exponent += 308;
  }
  return negative ? -value : value;
}

}  // namespace

Result<Tokenizer> TokenizerLoader::FromUnigramTokenizerJson(const json& root,
                                                            const std::string& path,
                                                            const json* config) {
  Tokenizer tokenizer;
  std::vector<AddedToken> added;
  std::vector<double> scores;
  int32_t unk_id = -1;
  bool byte_fallback = false;
  try {
    const json& model = root.at("model");
    const json& vocab = model.at("vocab");
    if (!vocab.is_array()) return CorruptionError(path + ": model.vocab is not a list");
    if (vocab.empty()) return CorruptionError(path + ": empty vocabulary");
    if (vocab.size() > INT32_MAX) return CorruptionError(path + ": vocabulary too large");
    scores.reserve(vocab.size());
    for (size_t id = 0; id < vocab.size(); ++id) {
      const json& entry = vocab[id];
      const std::string where = path + ": vocab entry " + std::to_string(id);
      if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() ||
          !entry[1].is_number()) {
        return CorruptionError(where + " is not [piece, score]");
      }
      const std::string& piece = entry[0].get_ref<const std::string&>();
      if (piece.empty()) return CorruptionError(where + " is an empty piece");
      if (piece.size() > kMaxPieceBytes) {
        return CorruptionError(where + " is longer than " + std::to_string(kMaxPieceBytes) +
                               " bytes");
      }
      const double score = SerdeScore(entry[1].get<double>());
      if (!std::isfinite(score)) return CorruptionError(where + " has a non-finite score");
      MG_RETURN_IF_ERROR(tokenizer.vocab_.Add(piece, static_cast<int32_t>(id)).WithContext(path));
      scores.push_back(score);
    }
    const json& unk = model.value("unk_id", json());
    if (unk.is_null()) {
      return UnimplementedError(path + ": Unigram without unk_id is not supported");
    }
    if (!unk.is_number_integer() || unk.get<int64_t>() < 0 ||
        unk.get<int64_t>() >= static_cast<int64_t>(vocab.size())) {
      return CorruptionError(path + ": model.unk_id is not an id of the vocabulary");
    }
    unk_id = static_cast<int32_t>(unk.get<int64_t>());
    byte_fallback = model.value("byte_fallback", false);

    // Normalizer: none, or Precompiled / Replace / Strip, alone or in a Sequence.
    const json& norm = root.value("normalizer", json());
    std::vector<const json*> steps;
    if (TypeOf(norm) == "Sequence") {
      const json& list = norm.at("normalizers");
      if (!list.is_array()) return CorruptionError(path + ": normalizer Sequence is not a list");
      for (const json& step : list) steps.push_back(&step);
    } else if (!norm.is_null()) {
      steps.push_back(&norm);
    }
    for (const json* step : steps) {
      const std::string type = TypeOf(*step);
      Tokenizer::NormalizerStep parsed{};
      if (type == "Precompiled") {
        if (tokenizer.charsmap_) {
          return UnimplementedError(path + ": more than one Precompiled normalizer");
        }
        const json& map = step->at("precompiled_charsmap");
        if (!map.is_string()) {
          return CorruptionError(path + ": precompiled_charsmap is not a base64 string");
        }
        Result<PrecompiledCharsmap> charsmap =
            PrecompiledCharsmap::FromBase64(map.get_ref<const std::string&>());
        if (!charsmap.ok()) return charsmap.status().WithContext(path);
        tokenizer.charsmap_ =
            std::make_shared<const PrecompiledCharsmap>(std::move(charsmap).value());
        parsed.kind = Tokenizer::NormalizerStep::kPrecompiled;
      } else if (type == "Replace") {
        const json& pattern = step->at("pattern");
        const json& content = step->at("content");
        if (!content.is_string())
          return CorruptionError(path + ": Replace content is not a string");
        parsed.content = content.get<std::string>();
        if (pattern.contains("String") && pattern["String"].is_string()) {
          parsed.kind = Tokenizer::NormalizerStep::kReplace;
          parsed.pattern = pattern["String"].get<std::string>();
          if (parsed.pattern.empty()) return CorruptionError(path + ": Replace of an empty string");
        } else if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
          // Only runs of one character: "X{n,}" (" {2,}" in T5 and XLM-R).
          const std::string regex = pattern["Regex"].get<std::string>();
          const size_t brace = regex.find('{');
          size_t min_run = 0;
          bool ok = brace != std::string::npos && regex.size() > brace + 3 &&
                    regex.compare(regex.size() - 2, 2, ",}") == 0 &&
                    SingleChar(regex.substr(0, brace)) &&
                    std::string("\\.^$|?*+()[]{}").find(regex[0]) == std::string::npos;
          for (size_t i = brace + 1; ok && i < regex.size() - 2; ++i) {
            ok = regex[i] >= '0' && regex[i] <= '9' && min_run < 1000;
            min_run = min_run * 10 + static_cast<size_t>(regex[i] - '0');
          }
          if (!ok || min_run == 0) {
            return UnimplementedError(path + ": Replace regex \"" + regex +
                                      "\" is not supported (runs of one character, \"X{n,}\")");
          }
          parsed.kind = Tokenizer::NormalizerStep::kReplaceRuns;
          parsed.pattern = regex.substr(0, brace);
          parsed.min_run = min_run;
        } else {
          return CorruptionError(path + ": Replace pattern is neither String nor Regex");
        }
      } else if (type == "Strip") {
        parsed.kind = Tokenizer::NormalizerStep::kStrip;
        parsed.left = step->value("strip_left", true);
        parsed.right = step->value("strip_right", true);
      } else {
        return UnimplementedError(path + ": normalizer \"" + type +
                                  "\" is not supported with Unigram (Precompiled, Replace, "
                                  "Strip, or a Sequence of them)");
      }
      tokenizer.steps_.push_back(std::move(parsed));
    }
    tokenizer.has_normalizer_ = !tokenizer.steps_.empty();

    // Pre-tokenizer: Metaspace, alone or after WhitespaceSplit.
    const json& pre = root.value("pre_tokenizer", json());
    const json* metaspace = &pre;
    if (TypeOf(pre) == "Sequence") {
      const json& list = pre.at("pretokenizers");
      if (list.is_array() && list.size() == 2 && TypeOf(list[0]) == "WhitespaceSplit") {
        tokenizer.whitespace_split_ = true;
        metaspace = &list[1];
      } else if (list.is_array() && list.size() == 1) {
        metaspace = &list[0];
      }
    }
    if (TypeOf(*metaspace) != "Metaspace") {
      return UnimplementedError(path +
                                ": Unigram is supported with the Metaspace pre-tokenizer only "
                                "(alone or after WhitespaceSplit)");
    }
    tokenizer.pre_tokenizer_ = Tokenizer::PreTokenizer::kMetaspace;
    tokenizer.metaspace_ = metaspace->value("replacement", std::string("\xE2\x96\x81"));
    if (!SingleChar(tokenizer.metaspace_)) {
      return CorruptionError(path + ": Metaspace replacement is not one character");
    }
    const json& scheme = metaspace->value("prepend_scheme", json());
    if (scheme.is_string()) {
      const std::string value = scheme.get<std::string>();
      if (value == "always") {
        tokenizer.prepend_ = Tokenizer::Prepend::kAlways;
      } else if (value == "first") {
        tokenizer.prepend_ = Tokenizer::Prepend::kFirst;
      } else if (value == "never") {
        tokenizer.prepend_ = Tokenizer::Prepend::kNever;
      } else {
        return CorruptionError(path + ": Metaspace prepend_scheme \"" + value +
                               "\" is not always, first or never");
      }
    } else {
      tokenizer.prepend_ = metaspace->value("add_prefix_space", true) ? Tokenizer::Prepend::kAlways
                                                                      : Tokenizer::Prepend::kNever;
    }
    tokenizer.metaspace_split_ = metaspace->value("split", true);

    MG_RETURN_IF_ERROR(ReadAddedTokens(root, path, &tokenizer.vocab_, &added));

    const json& post = root.value("post_processor", json());
    const std::string post_type = TypeOf(post);
    if (post_type == "TemplateProcessing") {
      MG_RETURN_IF_ERROR(ParseTemplates(post, tokenizer.vocab_, &tokenizer.single_template_,
                                        &tokenizer.pair_template_));
    } else if (post_type == "RobertaProcessing") {
      MG_ASSIGN_OR_RETURN(int32_t cls, SpecialId(post, "cls", path));
      MG_ASSIGN_OR_RETURN(int32_t sep, SpecialId(post, "sep", path));
      RobertaTemplates(cls, sep, &tokenizer.single_template_, &tokenizer.pair_template_);
      tokenizer.trim_offsets_ = post.value("trim_offsets", true);
      tokenizer.trim_keeps_prefix_space_ = post.value("add_prefix_space", true);
    } else if (post.is_null()) {
      tokenizer.single_template_ = {TemplatePiece{true, 0, {}, 0}};
      tokenizer.pair_template_ = {TemplatePiece{true, 0, {}, 0}, TemplatePiece{true, 1, {}, 1}};
    } else {
      return UnimplementedError(path + ": post_processor \"" + post_type +
                                "\" is not supported with Unigram");
    }
  } catch (const json::exception& e) {
    return CorruptionError(path + ": unexpected structure: " + e.what());
  }
  Result<Unigram> unigram =
      Unigram::Create(tokenizer.vocab_, std::move(scores), unk_id, byte_fallback);
  if (!unigram.ok()) return unigram.status().WithContext(path);
  tokenizer.unigram_ = std::make_unique<Unigram>(std::move(unigram).value());
  MG_RETURN_IF_ERROR(Finish(&tokenizer, BertNormalizerOptions{false, false, false, false}, nullptr,
                            std::move(added), config, {}));
  return tokenizer;
}

}  // namespace mg::text
