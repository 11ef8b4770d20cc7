#include "model/lora_adapter.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"

namespace mg::model {
namespace {

constexpr std::string_view kPeftPrefix = "base_model.model.";
constexpr const char* kProjections[] = {"query", "key", "value"};

int ProjectionIndex(std::string_view name) {
  for (int p = 0; p < 3; ++p)
    if (name == kProjections[p]) return p;
  return -1;
}

Status ReadChecked(const Checkpoint& weights, const TensorRecord& record,
                   const std::vector<int64_t>& shape, const std::string& file,
                   std::vector<float>* out) {
  if (record.shape != shape)
    return CorruptionError(file + ": tensor \"" + record.name + "\" has shape " +
                           ShapeText(record.shape) + ", expected " + ShapeText(shape));
  MG_ASSIGN_OR_RETURN(*out, weights.ReadF32(record));
  for (float v : *out) {
    if (!std::isfinite(v))
      return CorruptionError(file + ": tensor \"" + record.name + "\" holds a non-finite value");
  }
  return Status::Ok();
}

// A config value for an error message: short scalars as JSON, anything else
// by its kind, so an error never echoes a large or deep document.
std::string ValueText(const nlohmann::json& value) {
  if (value.is_structured()) return value.is_array() ? "an array" : "an object";
  const std::string text = value.dump();
  return text.size() <= 64 ? text : text.substr(0, 64) + "...";
}

// Refuses a config field that changes what the adapter computes unless it
// has its neutral value.
Status CheckNeutral(const nlohmann::json& c, const char* key, const nlohmann::json& neutral,
                    const std::string& file) {
  if (!c.contains(key) || c[key].is_null() || c[key] == neutral) return Status::Ok();
  return UnimplementedError(file + ": " + key + " = " + ValueText(c[key]) +
                            " is not supported (only plain LoRA on attention query, key and "
                            "value)");
}

// ModernBERT: LoRA on each layer's fused attn.Wqkv (PEFT's target module
// "Wqkv"), tensors base_model.model.model.layers.N.attn.Wqkv.lora_{A,B}.weight
// (the "model." in the middle optional), and the head's modules_to_save.
Result<LoraAdapter> ParseModernBertAdapter(const nlohmann::json& c, const Checkpoint& weights,
                                           const BertConfig& config, const std::string& name,
                                           LoraAdapter adapter) {
  const std::string config_file = JoinPath(name, kAdapterConfigFile);
  const std::string weights_file = JoinPath(name, kAdapterWeightsFile);
  if (!c.contains("target_modules") || c["target_modules"] != nlohmann::json::array({"Wqkv"}))
    return UnimplementedError(config_file +
                              ": target_modules must be [\"Wqkv\"] for ModernBERT (LoRA on its "
                              "fused query, key and value projection); other modules are not "
                              "supported");
  const ModernBertSettings& m = config.modernbert;
  const int64_t h = config.hidden_size, r = adapter.rank, layers = config.num_hidden_layers;
  const int64_t labels = static_cast<int64_t>(config.labels.size());
  adapter.a.resize(layers);
  adapter.b.resize(layers);
  for (const TensorRecord& record : weights.tensors()) {
    std::string_view tensor = record.name;
    if (!tensor.starts_with(kPeftPrefix))
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name +
                             "\" (PEFT names start with base_model.model.)");
    tensor.remove_prefix(kPeftPrefix.size());
    struct Head {
      std::string_view name;
      std::vector<int64_t> shape;
      std::vector<float>* out;
      bool allowed;
    };
    const Head heads[] = {{"head.dense.weight", {h, h}, &adapter.pooler_weight, true},
                          {"head.dense.bias", {h}, &adapter.pooler_bias, m.classifier_bias},
                          {"head.norm.weight", {h}, &adapter.head_norm_gamma, true},
                          {"head.norm.bias", {h}, &adapter.head_norm_beta, m.norm_bias},
                          {"classifier.weight", {labels, h}, &adapter.classifier_weight, true},
                          {"classifier.bias", {labels}, &adapter.classifier_bias, true}};
    bool is_head = false;
    for (const Head& head : heads) {
      if (tensor != head.name) continue;
      if (!head.allowed)
        return CorruptionError(weights_file + ": tensor \"" + record.name +
                               "\" is a bias the model's config.json does not have");
      MG_RETURN_IF_ERROR(ReadChecked(weights, record, head.shape, weights_file, head.out));
      is_head = true;
    }
    if (is_head) continue;
    if (tensor.starts_with("model.")) tensor.remove_prefix(6);
    const std::string_view layer_prefix = "layers.";
    const size_t attn = tensor.find(".attn.Wqkv.");
    const bool is_a = tensor.ends_with(".lora_A.weight"), is_b = tensor.ends_with(".lora_B.weight");
    if (!tensor.starts_with(layer_prefix) || attn == std::string_view::npos || !(is_a || is_b) ||
        tensor.size() != attn + 11 + 13)
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name + "\"");
    const std::string layer_text(tensor.substr(layer_prefix.size(), attn - layer_prefix.size()));
    char* end = nullptr;
    const long long layer = std::strtoll(layer_text.c_str(), &end, 10);
    if (layer_text.empty() || *end != '\0' || layer < 0 || layer >= layers)
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name +
                             "\" (no such layer in this model)");
    std::vector<float>* out = is_a ? &adapter.a[layer][0] : &adapter.b[layer][0];
    MG_RETURN_IF_ERROR(ReadChecked(
        weights, record, is_a ? std::vector<int64_t>{r, h} : std::vector<int64_t>{3 * h, r},
        weights_file, out));
  }
  const bool has_dense = !adapter.pooler_weight.empty();
  const bool complete_dense = adapter.pooler_bias.empty() == !m.classifier_bias;
  const bool complete_norm =
      !adapter.head_norm_gamma.empty() && adapter.head_norm_beta.empty() == !m.norm_bias;
  if ((has_dense || adapter.has_classifier()) &&
      !(has_dense && complete_dense && complete_norm && adapter.has_classifier() &&
        !adapter.classifier_bias.empty()))
    return CorruptionError(weights_file +
                           ": a ModernBERT head needs all of head.dense, head.norm and classifier "
                           "(with the biases config.json implies)");
  for (int64_t layer = 0; layer < layers; ++layer) {
    if (adapter.a[layer][0].empty() || adapter.b[layer][0].empty())
      return CorruptionError(weights_file + ": layer " + std::to_string(layer) + " lacks lora_" +
                             (adapter.a[layer][0].empty() ? "A" : "B") + " of Wqkv");
  }
  return adapter;
}

}  // namespace

bool HasLoraAdapter(const std::string& dir) {
  return FileExists(JoinPath(dir, kAdapterConfigFile)) ||
         FileExists(JoinPath(dir, kAdapterWeightsFile));
}

Result<LoraAdapter> ParseLoraAdapter(std::string_view config_json, const Checkpoint& weights,
                                     const BertConfig& config, const std::string& name) {
  const std::string config_file = JoinPath(name, kAdapterConfigFile);
  const std::string weights_file = JoinPath(name, kAdapterWeightsFile);
  const Status depth = CheckJsonDepth(config_json);
  if (!depth.ok()) return CorruptionError(config_file + ": " + depth.message());
  const nlohmann::json c = nlohmann::json::parse(config_json, nullptr, false);
  if (c.is_discarded() || !c.is_object())
    return CorruptionError(config_file + ": not a JSON object");
  const bool is_lora = c.contains("peft_type") && c["peft_type"] == "LORA";
  if (!is_lora)
    return UnimplementedError(config_file + ": peft_type is " +
                              (c.contains("peft_type") ? ValueText(c["peft_type"]) : "missing") +
                              "; only LORA adapters are supported");
  LoraAdapter adapter;
  if (!c.contains("r") || !c["r"].is_number_integer() || c["r"].get<int64_t>() <= 0)
    return CorruptionError(config_file + ": r (the rank) must be a positive integer, got " +
                           (c.contains("r") ? ValueText(c["r"]) : "nothing"));
  adapter.rank = c["r"].get<int64_t>();
  if (adapter.rank > config.hidden_size)
    return CorruptionError(config_file + ": rank " + std::to_string(adapter.rank) +
                           " exceeds hidden_size " + std::to_string(config.hidden_size));
  const nlohmann::json alpha = c.value("lora_alpha", nlohmann::json(adapter.rank));
  if (!alpha.is_number() || !std::isfinite(alpha.get<double>()) || alpha.get<double>() <= 0)
    return CorruptionError(config_file + ": lora_alpha must be a positive number, got " +
                           ValueText(alpha));
  adapter.alpha = alpha.get<double>();
  if (c.contains("use_rslora") && !c["use_rslora"].is_boolean() && !c["use_rslora"].is_null())
    return CorruptionError(config_file + ": use_rslora must be true or false");
  const bool rslora = c.contains("use_rslora") && c["use_rslora"] == true;
  adapter.scale = static_cast<float>(
      adapter.alpha / (rslora ? std::sqrt(static_cast<double>(adapter.rank)) : adapter.rank));
  MG_RETURN_IF_ERROR(CheckNeutral(c, "use_dora", false, config_file));
  MG_RETURN_IF_ERROR(CheckNeutral(c, "fan_in_fan_out", false, config_file));
  MG_RETURN_IF_ERROR(CheckNeutral(c, "bias", "none", config_file));
  MG_RETURN_IF_ERROR(CheckNeutral(c, "layers_to_transform", nullptr, config_file));
  MG_RETURN_IF_ERROR(CheckNeutral(c, "rank_pattern", nlohmann::json::object(), config_file));
  MG_RETURN_IF_ERROR(CheckNeutral(c, "alpha_pattern", nlohmann::json::object(), config_file));
  if (config.family_id == FamilyId::kModernBert)
    return ParseModernBertAdapter(c, weights, config, name, std::move(adapter));
  if (!c.contains("target_modules") || !c["target_modules"].is_array() ||
      c["target_modules"].empty())
    return CorruptionError(config_file +
                           ": target_modules must be a list of module names (query, key, value)");
  std::array<bool, 3> targeted = {false, false, false};
  for (const nlohmann::json& target : c["target_modules"]) {
    const int index =
        target.is_string() ? config.family().LoraTargetIndex(target.get<std::string>()) : -1;
    if (index < 0) {
      const auto& names = config.family().lora_targets;
      return UnimplementedError(config_file + ": unknown target module " + ValueText(target) +
                                " (supported: " + std::string(names[0]) + ", " +
                                std::string(names[1]) + ", " + std::string(names[2]) + ")");
    }
    targeted[index] = true;
  }

  const int64_t h = config.hidden_size, r = adapter.rank, layers = config.num_hidden_layers;
  adapter.a.resize(layers);
  adapter.b.resize(layers);
  const int64_t labels = static_cast<int64_t>(config.labels.size());
  for (const TensorRecord& record : weights.tensors()) {
    std::string_view peft_name = record.name;
    if (!peft_name.starts_with(kPeftPrefix))
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name +
                             "\" (PEFT names start with base_model.model.)");
    peft_name.remove_prefix(kPeftPrefix.size());
    // The family's own name (e.g. distilbert.transformer.layer.0.attention.q_lin)
    // in canonical form (encoder.layer.0.attention.self.query).
    const std::optional<std::string> canonical = config.family().CanonicalName(peft_name);
    if (!canonical)
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name + "\"");
    const std::string_view tensor = *canonical;
    struct Head {
      std::string_view name;
      std::vector<int64_t> shape;
      std::vector<float>* out;
    };
    const Head heads[] = {{"pooler.dense.weight", {h, h}, &adapter.pooler_weight},
                          {"pooler.dense.bias", {h}, &adapter.pooler_bias},
                          {"classifier.weight", {labels, h}, &adapter.classifier_weight},
                          {"classifier.bias", {labels}, &adapter.classifier_bias}};
    bool is_head = false;
    for (const Head& head : heads) {
      if (tensor != head.name) continue;
      MG_RETURN_IF_ERROR(ReadChecked(weights, record, head.shape, weights_file, head.out));
      is_head = true;
    }
    if (is_head) continue;
    // encoder.layer.L.attention.self.P.lora_X.weight
    const std::string_view layer_prefix = "encoder.layer.";
    const size_t self = tensor.find(".attention.self.");
    const bool is_a = tensor.ends_with(".lora_A.weight"), is_b = tensor.ends_with(".lora_B.weight");
    if (!tensor.starts_with(layer_prefix) || self == std::string_view::npos || !(is_a || is_b))
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name + "\"");
    const std::string layer_text(tensor.substr(layer_prefix.size(), self - layer_prefix.size()));
    char* end = nullptr;
    const long long layer = std::strtoll(layer_text.c_str(), &end, 10);
    const std::string_view rest = tensor.substr(self + 16);
    const int projection = ProjectionIndex(rest.substr(0, rest.find('.')));
    if (layer_text.empty() || *end != '\0' || layer < 0 || layer >= layers || projection < 0)
      return CorruptionError(weights_file + ": unknown tensor \"" + record.name +
                             "\" (no such layer or projection in this model)");
    if (!targeted[projection])
      return CorruptionError(weights_file + ": tensor \"" + record.name + "\" adapts " +
                             kProjections[projection] + ", which target_modules does not list");
    std::vector<float>* out = is_a ? &adapter.a[layer][projection] : &adapter.b[layer][projection];
    MG_RETURN_IF_ERROR(ReadChecked(weights, record,
                                   is_a ? std::vector<int64_t>{r, h} : std::vector<int64_t>{h, r},
                                   weights_file, out));
  }
  if ((adapter.pooler_weight.empty() != adapter.pooler_bias.empty()) ||
      (adapter.classifier_weight.empty() != adapter.classifier_bias.empty()))
    return CorruptionError(weights_file + ": a head module needs both its weight and its bias");
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (int p = 0; p < 3; ++p) {
      if (!targeted[p]) continue;
      if (adapter.a[layer][p].empty() || adapter.b[layer][p].empty())
        return CorruptionError(weights_file + ": layer " + std::to_string(layer) + " lacks lora_" +
                               (adapter.a[layer][p].empty() ? "A" : "B") + " of " +
                               kProjections[p]);
    }
  }
  return adapter;
}

void MergeLoraLayer(const LoraAdapter& adapter, int64_t index, BertLayerWeights* layer) {
  const int64_t r = adapter.rank;
  if (index < 0 || static_cast<size_t>(index) >= adapter.a.size()) return;
  for (int p = 0; p < 3; ++p) {
    const std::vector<float>& a = adapter.a[index][p];
    const std::vector<float>& b = adapter.b[index][p];
    if (a.empty()) continue;
    // W [out, in] += scale * B [out, r] A [r, in]; out is 3 * in for a fused Wqkv.
    const int64_t out = static_cast<int64_t>(b.size()) / r;
    const int64_t in = static_cast<int64_t>(a.size()) / r;
    float* w = layer->qkv_weight.data() + p * out * in;
    for (int64_t row = 0; row < out; ++row) {
      for (int64_t col = 0; col < in; ++col) {
        double delta = 0;
        for (int64_t k = 0; k < r; ++k)
          delta += static_cast<double>(b[row * r + k]) * a[k * in + col];
        w[row * in + col] =
            static_cast<float>(w[row * in + col] + static_cast<double>(adapter.scale) * delta);
      }
    }
  }
}

void MergeLoraAdapter(const LoraAdapter& adapter, BertWeights* weights) {
  for (size_t index = 0; index < weights->layers.size(); ++index)
    MergeLoraLayer(adapter, static_cast<int64_t>(index), &weights->layers[index]);
  MergeLoraHead(adapter, weights);
}

void MergeLoraHead(const LoraAdapter& adapter, BertWeights* weights) {
  if (!adapter.pooler_weight.empty()) {
    weights->pooler_weight = adapter.pooler_weight;
    weights->pooler_bias = adapter.pooler_bias;
  }
  if (!adapter.head_norm_gamma.empty()) {
    // ModernBERT: the biases the config leaves out are zeros, as its loader
    // makes them.
    const size_t h = adapter.head_norm_gamma.size();
    weights->head_norm_gamma = adapter.head_norm_gamma;
    weights->head_norm_beta = adapter.head_norm_beta;
    if (weights->head_norm_beta.empty()) weights->head_norm_beta.assign(h, 0.0f);
    if (weights->pooler_bias.empty()) weights->pooler_bias.assign(h, 0.0f);
  }
  if (adapter.has_classifier()) {
    weights->classifier_weight = adapter.classifier_weight;
    weights->classifier_bias = adapter.classifier_bias;
  }
}

}  // namespace mg::model
