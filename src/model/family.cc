#include "model/family.h"

#include <array>

namespace mg::model {
namespace {

// Canonical per-layer modules, in the order of Family::layer_modules.
constexpr std::array<std::string_view, 8> kCanonicalModules = {"attention.self.query",
                                                               "attention.self.key",
                                                               "attention.self.value",
                                                               "attention.output.dense",
                                                               "attention.output.LayerNorm",
                                                               "intermediate.dense",
                                                               "output.dense",
                                                               "output.LayerNorm"};
constexpr std::string_view kCanonicalLayers = "encoder.layer";
constexpr std::string_view kCanonicalHeadDense = "pooler.dense";
constexpr std::string_view kCanonicalHeadOut = "classifier";
// Architecture suffixes a family's classes may carry (the encoder is the same
// under each; only the sequence classifier's head is read).
constexpr std::array<std::string_view, 6> kArchitectureSuffixes = {
    "Model",          "ForSequenceClassification", "ForMaskedLM",
    "ForPreTraining", "ForTokenClassification",    "ForQuestionAnswering"};

const std::vector<std::string_view> kBertModules(kCanonicalModules.begin(),
                                                 kCanonicalModules.end());

// Splits "encoder.layer.N.rest" (with `list` = "encoder.layer") into N and rest.
bool SplitLayer(std::string_view name, std::string_view list, std::string_view* index,
                std::string_view* rest) {
  if (!name.starts_with(list) || name.size() <= list.size() + 1 || name[list.size()] != '.')
    return false;
  name.remove_prefix(list.size() + 1);
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  for (char c : name.substr(0, dot))
    if (c < '0' || c > '9') return false;
  *index = name.substr(0, dot);
  *rest = name.substr(dot + 1);
  return true;
}

// Maps "module.suffix" from one module list to the other.
std::optional<std::string> MapModule(std::string_view rest,
                                     const std::vector<std::string_view>& from,
                                     const std::vector<std::string_view>& to) {
  for (size_t m = 0; m < from.size(); ++m) {
    if (rest.size() > from[m].size() && rest.starts_with(from[m]) && rest[from[m].size()] == '.')
      return std::string(to[m]) + std::string(rest.substr(from[m].size()));
  }
  return std::nullopt;
}

// "a.b" with `head` = "a" → the suffix after "a." (".b"), else nullopt.
std::optional<std::string_view> AfterModule(std::string_view name, std::string_view head) {
  if (name.size() > head.size() && name.starts_with(head) && name[head.size()] == '.')
    return name.substr(head.size());
  return std::nullopt;
}

}  // namespace

const Family& BertFamily() {
  static const Family family{
      .id = FamilyId::kBert,
      .name = "BERT",
      .model_types = {{"bert", "Bert"}},
      .keys = {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
               "hidden_act"},
      .default_pad_token_id = 0,
      .reads_layer_norm_eps = true,
      .prefix = "bert.",
      .layer_list = "encoder.layer",
      .layer_modules = kBertModules,
      .head_dense = "bert.pooler.dense",
      .head_out = "classifier",
      .head_activation = HeadActivation::kTanh,
      .head_modules = {"classifier", "pooler"},
      .token_types = true,
      .positions_after_padding = false,
      .lora_targets = {"query", "key", "value"},
      .linear_modules = {"attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense", "intermediate.dense", "output.dense"},
  };
  return family;
}

const Family& DistilBertFamily() {
  static const Family family{
      .id = FamilyId::kDistilBert,
      .name = "DistilBERT",
      .model_types = {{"distilbert", "DistilBert"}},
      .keys = {"dim", "n_layers", "n_heads", "hidden_dim", "activation"},
      .default_pad_token_id = 0,
      .reads_layer_norm_eps = false,
      .prefix = "distilbert.",
      .layer_list = "transformer.layer",
      .layer_modules = {"attention.q_lin", "attention.k_lin", "attention.v_lin",
                        "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2",
                        "output_layer_norm"},
      .head_dense = "pre_classifier",
      .head_out = "classifier",
      .head_activation = HeadActivation::kRelu,
      .head_modules = {"pre_classifier", "classifier"},
      .token_types = false,
      .positions_after_padding = false,
      .lora_targets = {"q_lin", "k_lin", "v_lin"},
      .linear_modules = {"attention.q_lin", "attention.k_lin", "attention.v_lin",
                         "attention.out_lin", "ffn.lin1", "ffn.lin2"},
  };
  return family;
}

const Family& RobertaFamily() {
  static const Family family{
      .id = FamilyId::kRoberta,
      .name = "RoBERTa",
      .model_types = {{"roberta", "Roberta"},
                      {"xlm-roberta", "XLMRoberta"},
                      {"camembert", "Camembert"}},
      .keys = {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
               "hidden_act"},
      .default_pad_token_id = 1,
      .reads_layer_norm_eps = true,
      .prefix = "roberta.",
      .layer_list = "encoder.layer",
      .layer_modules = kBertModules,
      .head_dense = "classifier.dense",
      .head_out = "classifier.out_proj",
      .head_activation = HeadActivation::kTanh,
      .head_modules = {"classifier"},
      .token_types = true,
      .positions_after_padding = true,
      .lora_targets = {"query", "key", "value"},
      .linear_modules = {"attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense", "intermediate.dense", "output.dense"},
      .head_input_dropout = true,
  };
  return family;
}

const Family& ModernBertFamily() {
  static const Family family{
      .id = FamilyId::kModernBert,
      .name = "ModernBERT",
      .model_types = {{"modernbert", "ModernBert"}},
      .keys = {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
               "hidden_activation"},
      .default_pad_token_id = 50283,
      .reads_layer_norm_eps = false,  // norm_eps, read with the other ModernBERT settings
      .prefix = "model.",
      .layer_list = "layers",
      .layer_modules = {},
      .head_dense = "head.dense",
      .head_out = "classifier",
      .head_activation = HeadActivation::kTanh,  // unused: config.json's classifier_activation
      .head_modules = {"head", "classifier"},
      .token_types = false,
      .positions_after_padding = false,
      .lora_targets = {},
      .pre_norm = true,
      .linear_modules = {"attn.Wqkv", "attn.Wo", "mlp.Wi", "mlp.Wo"},
      .word_embeddings = "embeddings.tok_embeddings",
  };
  return family;
}

namespace {

std::array<const Family*, 4> AllFamilies() {
  return {&BertFamily(), &DistilBertFamily(), &RobertaFamily(), &ModernBertFamily()};
}

}  // namespace

const Family& FamilyOf(FamilyId id) {
  switch (id) {
    case FamilyId::kModernBert:
      return ModernBertFamily();
    case FamilyId::kDistilBert:
      return DistilBertFamily();
    case FamilyId::kRoberta:
      return RobertaFamily();
    case FamilyId::kBert:
      break;
  }
  return BertFamily();
}

Result<const Family*> FamilyForModelType(std::string_view model_type) {
  for (const Family* family : AllFamilies()) {
    for (const ModelType& type : family->model_types)
      if (type.model_type == model_type) return family;
  }
  return UnimplementedError("model_type \"" + std::string(model_type) +
                            "\" is not supported (supported: " + SupportedModelTypes() + ")");
}

std::string SupportedModelTypes() {
  std::string out;
  for (const Family* family : AllFamilies()) {
    for (const ModelType& type : family->model_types) {
      if (!out.empty()) out += ", ";
      out += type.model_type;
    }
  }
  return out;
}

std::string Family::HfName(std::string_view canonical) const {
  std::string_view index, rest;
  if (SplitLayer(canonical, kCanonicalLayers, &index, &rest)) {
    if (std::optional<std::string> module = MapModule(rest, kBertModules, layer_modules))
      return std::string(prefix) + std::string(layer_list) + "." + std::string(index) + "." +
             *module;
  }
  if (std::optional<std::string_view> suffix = AfterModule(canonical, kCanonicalHeadDense))
    return std::string(head_dense) + std::string(*suffix);
  if (std::optional<std::string_view> suffix = AfterModule(canonical, kCanonicalHeadOut))
    return std::string(head_out) + std::string(*suffix);
  return std::string(prefix) + std::string(canonical);
}

std::optional<std::string> Family::CanonicalName(std::string_view hf) const {
  // The head first: its names may not carry the prefix (RoBERTa's
  // classifier.dense) or carry it (BERT's bert.pooler.dense).
  if (std::optional<std::string_view> suffix = AfterModule(hf, head_dense))
    return std::string(kCanonicalHeadDense) + std::string(*suffix);
  if (std::optional<std::string_view> suffix = AfterModule(hf, head_out))
    return std::string(kCanonicalHeadOut) + std::string(*suffix);
  std::string_view bare = hf;
  if (bare.starts_with(prefix)) bare.remove_prefix(prefix.size());
  if (head_dense.starts_with(prefix)) {
    if (std::optional<std::string_view> suffix =
            AfterModule(bare, head_dense.substr(prefix.size())))
      return std::string(kCanonicalHeadDense) + std::string(*suffix);
  }
  if (bare.starts_with("embeddings.")) return std::string(bare);
  std::string_view index, rest;
  if (SplitLayer(bare, layer_list, &index, &rest)) {
    if (std::optional<std::string> module = MapModule(rest, layer_modules, kBertModules))
      return std::string(kCanonicalLayers) + "." + std::string(index) + "." + *module;
  }
  return std::nullopt;
}

int Family::LoraTargetIndex(std::string_view target) const {
  if (lora_targets.size() < 3 || layer_modules.size() < 3) return -1;
  for (int p = 0; p < 3; ++p) {
    const std::string_view module = layer_modules[static_cast<size_t>(p)];
    if (target == lora_targets[static_cast<size_t>(p)] || target == module) return p;
    if (target.size() > module.size() && target.ends_with(module) &&
        target[target.size() - module.size() - 1] == '.')
      return p;
  }
  return -1;
}

bool Family::IsLayerLinearWeight(std::string_view hf) const {
  std::string_view bare = hf;
  if (bare.starts_with(prefix)) bare.remove_prefix(prefix.size());
  std::string_view index, rest;
  if (!SplitLayer(bare, layer_list, &index, &rest)) return false;
  for (std::string_view module : linear_modules)
    if (AfterModule(rest, module) == ".weight") return true;
  return false;
}

bool Family::IsWordEmbeddings(std::string_view hf) const {
  std::string_view bare = hf;
  if (bare.starts_with(prefix)) bare.remove_prefix(prefix.size());
  return AfterModule(bare, word_embeddings) == ".weight";
}

bool Family::IsHeadTensor(std::string_view hf) const {
  const std::optional<std::string> canonical = CanonicalName(hf);
  if (canonical && (canonical->starts_with("pooler.") || canonical->starts_with("classifier.")))
    return true;
  // A base model's own pooler (e.g. roberta.pooler.dense) belongs to no
  // encoder layer either.
  std::string_view bare = hf;
  if (bare.starts_with(prefix)) bare.remove_prefix(prefix.size());
  if (bare.starts_with("pooler.")) return true;
  // Any other module of the head (ModernBERT's head.norm).
  for (std::string_view module : head_modules)
    if (AfterModule(hf, module)) return true;
  return false;
}

bool Family::KnowsArchitecture(std::string_view architecture) const {
  for (const ModelType& type : model_types) {
    if (!architecture.starts_with(type.class_stem)) continue;
    const std::string_view suffix = architecture.substr(type.class_stem.size());
    for (std::string_view known : kArchitectureSuffixes)
      if (suffix == known) return true;
  }
  return false;
}

std::string Family::ClassifierArchitecture(std::string_view model_type) const {
  for (const ModelType& type : model_types)
    if (type.model_type == model_type)
      return std::string(type.class_stem) + "ForSequenceClassification";
  return std::string(model_types.front().class_stem) + "ForSequenceClassification";
}

std::string Family::BaseArchitecture(std::string_view model_type) const {
  for (const ModelType& type : model_types)
    if (type.model_type == model_type) return std::string(type.class_stem) + "Model";
  return std::string(model_types.front().class_stem) + "Model";
}

void PositionIds(const Family& family, const int32_t* ids, int64_t length, int64_t pad_token_id,
                 int32_t* out) {
  if (!family.positions_after_padding) {
    for (int64_t t = 0; t < length; ++t) out[t] = static_cast<int32_t>(t);
    return;
  }
  int64_t count = 0;
  for (int64_t t = 0; t < length; ++t) {
    if (ids[t] == pad_token_id) {
      out[t] = static_cast<int32_t>(pad_token_id);
    } else {
      ++count;
      out[t] = static_cast<int32_t>(pad_token_id + count);
    }
  }
}

bool IsAnyHeadTensor(std::string_view name) {
  for (const Family* family : AllFamilies())
    if (family->IsHeadTensor(name)) return true;
  return false;
}

}  // namespace mg::model
