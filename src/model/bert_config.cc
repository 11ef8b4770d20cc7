#include "model/bert_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"
#include "model/modernbert_config.h"

namespace mg::model {
namespace {

using nlohmann::json;

Status ReadInt(const json& root, const char* key, bool required, int64_t min, int64_t max,
               int64_t* out, const std::string& name) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) {
    if (required) return CorruptionError(name + ": missing \"" + key + "\"");
    return Status::Ok();
  }
  if (!it->is_number_integer())
    return CorruptionError(name + ": \"" + key + "\" is not an integer");
  const int64_t value = it->get<int64_t>();
  if (value < min || value > max) {
    return CorruptionError(name + ": \"" + key + "\" = " + std::to_string(value) +
                           " is out of range [" + std::to_string(min) + ", " + std::to_string(max) +
                           "]");
  }
  *out = value;
  return Status::Ok();
}

}  // namespace

double BertConfig::ForwardFlops(int64_t seq_len) const {
  const double h = static_cast<double>(hidden_size), l = static_cast<double>(seq_len);
  const double projections = 2.0 * l * (4 * h * h + 2 * h * static_cast<double>(intermediate_size));
  const double attention = 4.0 * l * l * h;  // Q K^T and P V
  return static_cast<double>(num_hidden_layers) * (projections + attention);
}

int64_t BertConfig::max_tokens() const {
  if (!family().positions_after_padding) return max_position_embeddings;
  return std::max<int64_t>(0, max_position_embeddings - pad_token_id - 1);
}

bool BertConfig::is_sequence_classifier() const {
  for (const std::string& arch : architectures) {
    if (arch.find("ForSequenceClassification") != std::string::npos) return true;
  }
  return false;
}

Result<BertConfig> ParseBertConfig(const std::string& json_text, const std::string& name) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(json_text).WithContext(name));
  json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded() || !root.is_object())
    return CorruptionError(name + ": not a JSON object");
  BertConfig config;
  if (root.contains("model_type") && root["model_type"].is_string()) {
    config.model_type = root["model_type"].get<std::string>();
  }
  Result<const Family*> found = FamilyForModelType(config.model_type);
  if (!found.ok()) return found.status().WithContext(name);
  const Family& family = **found;
  config.family_id = family.id;
  config.pad_token_id = family.default_pad_token_id;
  if (root.contains("architectures") && root["architectures"].is_array()) {
    for (const json& arch : root["architectures"]) {
      if (arch.is_string()) config.architectures.push_back(arch.get<std::string>());
    }
  }
  for (const std::string& arch : config.architectures) {
    if (!family.KnowsArchitecture(arch)) {
      return UnimplementedError(name + ": architecture \"" + arch + "\" is not supported for " +
                                "model_type \"" + config.model_type + "\"");
    }
  }
  const ConfigKeys& keys = family.keys;
  constexpr int64_t kBig = int64_t{1} << 24;
  MG_RETURN_IF_ERROR(ReadInt(root, "vocab_size", true, 1, kBig, &config.vocab_size, name));
  MG_RETURN_IF_ERROR(
      ReadInt(root, keys.hidden_size.data(), true, 1, 65536, &config.hidden_size, name));
  MG_RETURN_IF_ERROR(
      ReadInt(root, keys.num_hidden_layers.data(), true, 1, 1024, &config.num_hidden_layers, name));
  MG_RETURN_IF_ERROR(ReadInt(root, keys.num_attention_heads.data(), true, 1, 1024,
                             &config.num_attention_heads, name));
  MG_RETURN_IF_ERROR(ReadInt(root, keys.intermediate_size.data(), true, 1, 1 << 20,
                             &config.intermediate_size, name));
  MG_RETURN_IF_ERROR(ReadInt(root, "max_position_embeddings", false, 1, 1 << 20,
                             &config.max_position_embeddings, name));
  if (family.token_types) {
    MG_RETURN_IF_ERROR(
        ReadInt(root, "type_vocab_size", false, 1, 1 << 16, &config.type_vocab_size, name));
  } else {
    config.type_vocab_size = 0;
  }
  MG_RETURN_IF_ERROR(ReadInt(root, "pad_token_id", false, 0, kBig, &config.pad_token_id, name));
  if (family.positions_after_padding && config.max_tokens() < 1) {
    return CorruptionError(
        name + ": max_position_embeddings " + std::to_string(config.max_position_embeddings) +
        " leaves no position after pad_token_id " + std::to_string(config.pad_token_id));
  }
  if (config.hidden_size % config.num_attention_heads != 0) {
    return CorruptionError(name + ": hidden_size " + std::to_string(config.hidden_size) +
                           " is not a multiple of num_attention_heads " +
                           std::to_string(config.num_attention_heads));
  }
  if (family.reads_layer_norm_eps && root.contains("layer_norm_eps") &&
      root["layer_norm_eps"].is_number()) {
    config.layer_norm_eps = root["layer_norm_eps"].get<float>();
  }
  const std::string act_key(keys.hidden_act);
  if (root.contains(act_key) && root[act_key].is_string()) {
    config.hidden_act = root[act_key].get<std::string>();
  }
  if (config.hidden_act != "gelu") {
    return UnimplementedError(name + ": " + act_key + " \"" + config.hidden_act +
                              "\" is not supported (gelu only)");
  }
  if (family.pre_norm) {
    MG_RETURN_IF_ERROR(ParseModernBertSettings(root, name, &config));
  }
  if (root.contains("position_embedding_type") && root["position_embedding_type"] != "absolute") {
    return UnimplementedError(name + ": only absolute position embeddings are supported");
  }
  if (root.contains("id2label") && root["id2label"].is_object()) {
    const json& id2label = root["id2label"];
    config.labels.resize(id2label.size());
    for (const auto& [key, value] : id2label.items()) {
      size_t index = 0;
      try {
        index = std::stoul(key);
      } catch (const std::exception&) {
        return CorruptionError(name + ": id2label key \"" + key + "\" is not a number");
      }
      if (index >= config.labels.size() || !value.is_string()) {
        return CorruptionError(name + ": id2label must map 0..n-1 to label names");
      }
      config.labels[index] = value.get<std::string>();
    }
  }
  int64_t num_labels = static_cast<int64_t>(config.labels.size());
  MG_RETURN_IF_ERROR(ReadInt(root, "num_labels", false, 1, 1 << 20, &num_labels, name));
  if (config.labels.empty() && config.is_sequence_classifier()) {
    if (num_labels == 0) num_labels = 2;
    for (int64_t i = 0; i < num_labels; ++i) config.labels.push_back("LABEL_" + std::to_string(i));
  }
  std::string problem =
      root.value("problem_type", json()).is_string() ? root["problem_type"].get<std::string>() : "";
  // One label without a problem_type is a cross-encoder (a relevance score):
  // sigmoid on its logit, as transformers' text-classification pipeline,
  // sentence-transformers' CrossEncoder and TEI score it. Only an explicit
  // "regression" keeps the raw value.
  if (problem == "multi_label_classification" || (problem.empty() && config.labels.size() == 1)) {
    config.problem_type = ProblemType::kMultiLabel;
  } else if (problem == "regression") {
    config.problem_type = ProblemType::kRegression;
  } else if (!problem.empty() && problem != "single_label_classification") {
    return CorruptionError(name + ": unknown problem_type \"" + problem + "\"");
  }
  return config;
}

Result<BertConfig> ReadBertConfig(const std::string& path) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseBertConfig(text, path);
}

}  // namespace mg::model
