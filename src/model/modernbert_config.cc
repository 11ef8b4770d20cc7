#include "model/modernbert_config.h"

#include <cmath>

namespace mg::model {
namespace {

using nlohmann::json;

Status ReadBool(const json& root, const char* key, bool* out, const std::string& name) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return CorruptionError(name + ": \"" + key + "\" is not true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

Status ReadPositive(const json& root, const char* key, double* out, const std::string& name) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return Status::Ok();
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() <= 0)
    return CorruptionError(name + ": \"" + key + "\" is not a positive number");
  *out = it->get<double>();
  return Status::Ok();
}

Status ReadCount(const json& root, const char* key, int64_t min, int64_t* out,
                 const std::string& name) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > (1 << 20))
    return CorruptionError(name + ": \"" + key + "\" is not an integer in [" + std::to_string(min) +
                           ", " + std::to_string(1 << 20) + "]");
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status ReadString(const json& root, const char* key, std::string* out, const std::string& name) {
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return CorruptionError(name + ": \"" + key + "\" is not a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

// rope_parameters (newer configs): {"full_attention": {"rope_theta": ...},
// "sliding_attention": {...}}; only the default rotary embedding is implemented.
Status ReadRopeParameters(const json& root, const std::string& name, ModernBertSettings* s) {
  auto it = root.find("rope_parameters");
  if (it == root.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return CorruptionError(name + ": \"rope_parameters\" is not an object");
  for (const auto& [type, theta] :
       {std::pair<const char*, double*>{"full_attention", &s->global_rope_theta},
        {"sliding_attention", &s->local_rope_theta}}) {
    auto entry = it->find(type);
    if (entry == it->end() || entry->is_null()) continue;
    if (!entry->is_object())
      return CorruptionError(name + ": rope_parameters." + type + " is not an object");
    std::string rope_type = "default";
    MG_RETURN_IF_ERROR(ReadString(*entry, "rope_type", &rope_type, name));
    if (rope_type != "default")
      return UnimplementedError(name + ": rope_type \"" + rope_type +
                                "\" is not supported (default only)");
    MG_RETURN_IF_ERROR(ReadPositive(*entry, "rope_theta", theta, name));
  }
  return Status::Ok();
}

}  // namespace

Status ParseModernBertSettings(const json& root, const std::string& name, BertConfig* config) {
  ModernBertSettings& s = config->modernbert;
  if (!root.contains("max_position_embeddings")) config->max_position_embeddings = 8192;
  double eps = 1e-5;
  MG_RETURN_IF_ERROR(ReadPositive(root, "norm_eps", &eps, name));
  config->layer_norm_eps = static_cast<float>(eps);
  MG_RETURN_IF_ERROR(ReadBool(root, "norm_bias", &s.norm_bias, name));
  MG_RETURN_IF_ERROR(ReadBool(root, "attention_bias", &s.attention_bias, name));
  MG_RETURN_IF_ERROR(ReadBool(root, "mlp_bias", &s.mlp_bias, name));
  MG_RETURN_IF_ERROR(ReadBool(root, "classifier_bias", &s.classifier_bias, name));
  MG_RETURN_IF_ERROR(ReadPositive(root, "global_rope_theta", &s.global_rope_theta, name));
  MG_RETURN_IF_ERROR(ReadPositive(root, "local_rope_theta", &s.local_rope_theta, name));
  MG_RETURN_IF_ERROR(ReadRopeParameters(root, name, &s));
  MG_RETURN_IF_ERROR(ReadCount(root, "local_attention", 0, &s.local_attention, name));
  int64_t every = 3;
  MG_RETURN_IF_ERROR(ReadCount(root, "global_attn_every_n_layers", 1, &every, name));
  if (config->head_dim() % 2 != 0)
    return CorruptionError(name + ": rotary embeddings need an even head size, got " +
                           std::to_string(config->head_dim()));

  const int64_t layers = config->num_hidden_layers;
  s.sliding_layers.assign(static_cast<size_t>(layers), false);
  auto types = root.find("layer_types");
  if (types != root.end() && !types->is_null()) {
    if (!types->is_array() || static_cast<int64_t>(types->size()) != layers)
      return CorruptionError(name + ": \"layer_types\" must list one type per layer (" +
                             std::to_string(layers) + ")");
    for (int64_t layer = 0; layer < layers; ++layer) {
      const json& type = (*types)[static_cast<size_t>(layer)];
      if (type == "sliding_attention") {
        s.sliding_layers[static_cast<size_t>(layer)] = true;
      } else if (type != "full_attention") {
        return UnimplementedError(name + ": layer type " + type.dump() +
                                  " is not supported (full_attention or sliding_attention)");
      }
    }
  } else {
    for (int64_t layer = 0; layer < layers; ++layer)
      s.sliding_layers[static_cast<size_t>(layer)] = layer % every != 0;
  }

  std::string pooling = "cls";
  MG_RETURN_IF_ERROR(ReadString(root, "classifier_pooling", &pooling, name));
  if (pooling != "cls" && pooling != "mean")
    return UnimplementedError(name + ": classifier_pooling \"" + pooling +
                              "\" is not supported (cls or mean)");
  s.classifier_mean_pooling = pooling == "mean";
  std::string activation = "gelu";
  MG_RETURN_IF_ERROR(ReadString(root, "classifier_activation", &activation, name));
  if (activation == "gelu") {
    s.classifier_activation = ClassifierActivation::kGelu;
  } else if (activation == "tanh") {
    s.classifier_activation = ClassifierActivation::kTanh;
  } else if (activation == "relu") {
    s.classifier_activation = ClassifierActivation::kRelu;
  } else {
    return UnimplementedError(name + ": classifier_activation \"" + activation +
                              "\" is not supported (gelu, tanh or relu)");
  }
  return Status::Ok();
}

}  // namespace mg::model
