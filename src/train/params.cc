#include "train/params.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include "model/bert_weights.h"

namespace mg::train {
namespace {

// ModernBERT-base's global_attn_every_n_layers.
constexpr int64_t kModernBertGlobalEvery = 3;

class LayoutBuilder {
 public:
  explicit LayoutBuilder(ParamLayout* layout) : layout_(layout) {}
  size_t Add(const std::string& name, std::vector<int64_t> shape, bool decay) {
    size_t size = 1;
    for (int64_t d : shape) size *= static_cast<size_t>(d);
    const size_t offset = layout_->total;
    layout_->tensors.push_back({name, std::move(shape), offset, size, decay});
    layout_->total += size;
    return offset;
  }
  // A tensor inside an already reserved block.
  void Name(const std::string& name, std::vector<int64_t> shape, size_t offset, bool decay) {
    size_t size = 1;
    for (int64_t d : shape) size *= static_cast<size_t>(d);
    layout_->tensors.push_back({name, std::move(shape), offset, size, decay});
  }
  size_t Reserve(size_t size) {
    const size_t offset = layout_->total;
    layout_->total += size;
    return offset;
  }

 private:
  ParamLayout* layout_;
};

// The sizes every family's layout shares.
ParamLayout LayoutSizes(const model::BertConfig& config, int64_t labels) {
  ParamLayout l;
  l.family = config.family_id;
  l.layer_norm_eps = config.layer_norm_eps;
  l.pad_token_id = config.pad_token_id;
  l.vocab = config.vocab_size;
  l.hidden = config.hidden_size;
  l.layers = config.num_hidden_layers;
  l.heads = config.num_attention_heads;
  l.intermediate = config.intermediate_size;
  l.positions = config.max_position_embeddings;
  l.labels = labels;
  return l;
}

// A LoRA layout's rank and scale; everything but the adapter (added after
// this) and the head is frozen.
void StartLora(const model::Family& family, LoraOptions lora, ParamLayout* l) {
  l->lora_rank = lora.rank;
  l->lora_alpha = lora.alpha > 0 ? lora.alpha : static_cast<float>(lora.rank);
  l->lora_scale = l->lora_alpha / static_cast<float>(lora.rank);
  for (ParamTensor& t : l->tensors) t.trainable = family.IsHeadTensor(t.name);
}

// ModernBERT's tensors under Hugging Face's names (ModernBertFor* state
// dicts: the encoder under "model.").
ParamLayout ModernBertLayout(const model::BertConfig& config, int64_t labels, LoraOptions lora) {
  ParamLayout l = LayoutSizes(config, labels);
  l.modernbert = config.modernbert;
  const model::ModernBertSettings& m = config.modernbert;
  const int64_t h = l.hidden, inter = l.intermediate;
  LayoutBuilder b(&l);
  auto norm = [&](const std::string& module, size_t* gamma, size_t* beta) {
    *gamma = b.Add(module + ".weight", {h}, false);
    *beta = m.norm_bias ? b.Add(module + ".bias", {h}, false) : kNoTensor;
  };
  auto linear = [&](const std::string& module, int64_t out, int64_t in, bool bias, size_t* weight,
                    size_t* bias_offset) {
    *weight = b.Add(module + ".weight", {out, in}, true);
    *bias_offset = bias ? b.Add(module + ".bias", {out}, false) : kNoTensor;
  };
  l.word_embeddings = b.Add("model.embeddings.tok_embeddings.weight", {l.vocab, h}, true);
  l.position_embeddings = l.token_type_embeddings = kNoTensor;
  norm("model.embeddings.norm", &l.embedding_norm_gamma, &l.embedding_norm_beta);
  for (int64_t i = 0; i < l.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerOffsets o{};
    o.attention_norm_gamma = o.attention_norm_beta = kNoTensor;  // layer 0: the identity
    if (i > 0) norm(p + "attn_norm", &o.attention_norm_gamma, &o.attention_norm_beta);
    linear(p + "attn.Wqkv", 3 * h, h, m.attention_bias, &o.qkv_weight, &o.qkv_bias);
    linear(p + "attn.Wo", h, h, m.attention_bias, &o.attention_output_weight,
           &o.attention_output_bias);
    norm(p + "mlp_norm", &o.output_norm_gamma, &o.output_norm_beta);
    linear(p + "mlp.Wi", 2 * inter, h, m.mlp_bias, &o.intermediate_weight, &o.intermediate_bias);
    linear(p + "mlp.Wo", h, inter, m.mlp_bias, &o.output_weight, &o.output_bias);
    o.lora_query_a = o.lora_query_b = o.lora_value_a = o.lora_value_b = kNoTensor;
    l.layer.push_back(o);
  }
  norm("model.final_norm", &l.final_norm_gamma, &l.final_norm_beta);
  linear("head.dense", h, h, m.classifier_bias, &l.pooler_weight, &l.pooler_bias);
  norm("head.norm", &l.head_norm_gamma, &l.head_norm_beta);
  linear("classifier", labels, h, true, &l.classifier_weight, &l.classifier_bias);
  if (lora.rank <= 0) return l;
  StartLora(model::ModernBertFamily(), lora, &l);
  for (int64_t i = 0; i < l.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".attn.Wqkv.";
    l.layer[i].lora_query_a = b.Add(p + "lora_A.weight", {lora.rank, h}, true);
    l.layer[i].lora_query_b = b.Add(p + "lora_B.weight", {3 * h, lora.rank}, true);
  }
  return l;
}

}  // namespace

bool IsLoraTensor(const std::string& name) {
  return name.ends_with(".lora_A.weight") || name.ends_with(".lora_B.weight");
}

ParamLayout ParamLayout::For(const model::BertConfig& config, int64_t labels, LoraOptions lora) {
  if (config.family_id == model::FamilyId::kModernBert)
    return ModernBertLayout(config, labels, lora);
  ParamLayout l = LayoutSizes(config, labels);
  const model::Family& family = config.family();
  l.types = family.token_types ? config.type_vocab_size : 0;
  const int64_t h = l.hidden;
  auto name = [&family](const std::string& canonical) { return family.HfName(canonical); };
  LayoutBuilder b(&l);
  l.word_embeddings = b.Add(name("embeddings.word_embeddings.weight"), {l.vocab, h}, true);
  l.position_embeddings =
      b.Add(name("embeddings.position_embeddings.weight"), {l.positions, h}, true);
  if (l.types > 0) {
    l.token_type_embeddings =
        b.Add(name("embeddings.token_type_embeddings.weight"), {l.types, h}, true);
  }
  l.embedding_norm_gamma = b.Add(name("embeddings.LayerNorm.weight"), {h}, false);
  l.embedding_norm_beta = b.Add(name("embeddings.LayerNorm.bias"), {h}, false);
  for (int64_t i = 0; i < l.layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    LayerOffsets o{};
    o.qkv_weight = b.Reserve(3 * h * h);
    o.qkv_bias = b.Reserve(3 * h);
    const char* parts[] = {"query", "key", "value"};
    for (int part = 0; part < 3; ++part) {
      const std::string module = p + "attention.self." + parts[part];
      b.Name(name(module + ".weight"), {h, h}, o.qkv_weight + part * h * h, true);
      b.Name(name(module + ".bias"), {h}, o.qkv_bias + part * h, false);
    }
    o.attention_output_weight = b.Add(name(p + "attention.output.dense.weight"), {h, h}, true);
    o.attention_output_bias = b.Add(name(p + "attention.output.dense.bias"), {h}, false);
    o.attention_norm_gamma = b.Add(name(p + "attention.output.LayerNorm.weight"), {h}, false);
    o.attention_norm_beta = b.Add(name(p + "attention.output.LayerNorm.bias"), {h}, false);
    o.intermediate_weight = b.Add(name(p + "intermediate.dense.weight"), {l.intermediate, h}, true);
    o.intermediate_bias = b.Add(name(p + "intermediate.dense.bias"), {l.intermediate}, false);
    o.output_weight = b.Add(name(p + "output.dense.weight"), {h, l.intermediate}, true);
    o.output_bias = b.Add(name(p + "output.dense.bias"), {h}, false);
    o.output_norm_gamma = b.Add(name(p + "output.LayerNorm.weight"), {h}, false);
    o.output_norm_beta = b.Add(name(p + "output.LayerNorm.bias"), {h}, false);
    l.layer.push_back(o);
  }
  l.pooler_weight = b.Add(name("pooler.dense.weight"), {h, h}, true);
  l.pooler_bias = b.Add(name("pooler.dense.bias"), {h}, false);
  l.classifier_weight = b.Add(name("classifier.weight"), {labels, h}, true);
  l.classifier_bias = b.Add(name("classifier.bias"), {labels}, false);
  if (lora.rank <= 0) return l;
  StartLora(family, lora, &l);
  for (int64_t i = 0; i < l.layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".attention.self.";
    LayerOffsets& o = l.layer[i];
    o.lora_query_a = b.Add(name(p + "query.lora_A.weight"), {lora.rank, h}, true);
    o.lora_query_b = b.Add(name(p + "query.lora_B.weight"), {h, lora.rank}, true);
    o.lora_value_a = b.Add(name(p + "value.lora_A.weight"), {lora.rank, h}, true);
    o.lora_value_b = b.Add(name(p + "value.lora_B.weight"), {h, lora.rank}, true);
  }
  return l;
}

std::string PresetNames() {
  return "tiny, mini, small, base, and the same with distilbert-, roberta- or modernbert- in "
         "front (e.g. distilbert-tiny, roberta-mini, modernbert-small)";
}

Result<model::BertConfig> PresetConfig(const std::string& preset, int64_t vocab_size,
                                       int64_t pad_token_id) {
  model::BertConfig c;
  c.vocab_size = vocab_size;
  c.pad_token_id = pad_token_id;
  std::string size = preset;
  for (const model::Family* family :
       {&model::DistilBertFamily(), &model::RobertaFamily(), &model::ModernBertFamily()}) {
    const std::string stem = std::string(family->model_types.front().model_type) + "-";
    if (preset.starts_with(stem)) {
      c.family_id = family->id;
      c.model_type = family->model_types.front().model_type;
      size = preset.substr(stem.size());
    }
  }
  const model::Family& family = c.family();
  c.architectures = {family.ClassifierArchitecture(c.model_type)};
  if (size == "tiny") {
    c.num_hidden_layers = 2, c.hidden_size = 128;
  } else if (size == "mini") {
    c.num_hidden_layers = 4, c.hidden_size = 256;
  } else if (size == "small") {
    c.num_hidden_layers = 4, c.hidden_size = 512;
  } else if (size == "base") {
    c.num_hidden_layers = 12, c.hidden_size = 768;
  } else {
    return InvalidArgumentError("unknown size preset \"" + preset + "\" (expected " +
                                PresetNames() + ")");
  }
  c.num_attention_heads = c.hidden_size / 64;
  c.intermediate_size = 4 * c.hidden_size;
  if (!family.token_types) c.type_vocab_size = 0;
  if (family.positions_after_padding) {
    // As roberta-base: one type, 512 positions after the padding id.
    c.type_vocab_size = 1;
    c.layer_norm_eps = 1e-5f;
    c.max_position_embeddings = 512 + std::max<int64_t>(pad_token_id, 0) + 1;
  }
  if (family.id == model::FamilyId::kModernBert) {
    c.type_vocab_size = 0;
    c.layer_norm_eps = 1e-5f;
    c.intermediate_size = c.hidden_size * 3 / 2;
    c.max_position_embeddings = 8192;
    c.modernbert = model::ModernBertSettings{};
    c.modernbert.sliding_layers.resize(c.num_hidden_layers);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
      c.modernbert.sliding_layers[i] = i % kModernBertGlobalEvery != 0;
  }
  return c;
}

void InitParams(const ParamLayout& layout, int64_t pad_token_id, uint64_t seed,
                std::vector<float>* values) {
  values->assign(layout.total, 0.0f);
  std::mt19937_64 rng(seed);
  // Box-Muller on the engine's raw output: the same numbers on every platform.
  auto uniform = [&rng] { return (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0; };
  auto normal = [&] {
    return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  };
  for (const ParamTensor& t : layout.tensors) {
    float* data = values->data() + t.offset;
    if (t.name.ends_with(".lora_A.weight")) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(t.shape[1]));
      for (size_t i = 0; i < t.size; ++i)
        data[i] = static_cast<float>(bound * (2.0 * uniform() - 1.0));
      continue;
    }
    if (t.name.ends_with(".lora_B.weight")) continue;  // zero
    const std::optional<std::string> canonical = layout.family_info().CanonicalName(t.name);
    const bool is_norm = layout.family == model::FamilyId::kModernBert
                             ? t.name.ends_with("norm.weight")
                             : canonical && canonical->ends_with("LayerNorm.weight");
    const bool is_matrix = t.shape.size() == 2;
    for (size_t i = 0; i < t.size; ++i)
      data[i] = is_norm ? 1.0f : is_matrix ? static_cast<float>(0.02 * normal()) : 0.0f;
  }
  if (pad_token_id >= 0 && pad_token_id < layout.vocab) {
    float* row = values->data() + layout.word_embeddings + pad_token_id * layout.hidden;
    std::fill(row, row + layout.hidden, 0.0f);
  }
}

namespace {

// ModernBERT: every layout tensor by name, the encoder's with or without the
// "model." prefix; the head (head.dense, head.norm) when the checkpoint has
// it, the classifier only when asked and of the layout's shape.
Status LoadModernBertParams(const model::Checkpoint& checkpoint, const ParamLayout& layout,
                            std::vector<float>* values, bool load_classifier) {
  const model::Family& family = model::ModernBertFamily();
  for (const ParamTensor& t : layout.tensors) {
    if (IsLoraTensor(t.name)) continue;
    const bool head = family.IsHeadTensor(t.name);
    const bool classifier = t.name.starts_with("classifier.");
    if (classifier && !load_classifier) continue;
    const model::TensorRecord* record = checkpoint.Find(t.name);
    if (record == nullptr && t.name.starts_with(family.prefix))
      record = checkpoint.Find(t.name.substr(family.prefix.size()));
    if (record == nullptr) {
      if (head) continue;  // a base model: the head starts from its initial values
      return InvalidArgumentError("the checkpoint has no tensor " + t.name +
                                  ", which the model's config.json implies");
    }
    if (record->numel() != t.size) {
      if (classifier) continue;  // other labels: a new classifier
      return InvalidArgumentError(record->file + ": tensor " + record->name + " holds " +
                                  std::to_string(record->numel()) +
                                  " values; config.json implies " + std::to_string(t.size));
    }
    MG_RETURN_IF_ERROR(checkpoint.ReadF32(*record, values->data() + t.offset));
  }
  return Status::Ok();
}

}  // namespace

Status LoadParams(const model::Checkpoint& checkpoint, const model::BertConfig& config,
                  const ParamLayout& layout, std::vector<float>* values, bool load_classifier) {
  if (layout.family == model::FamilyId::kModernBert)
    return LoadModernBertParams(checkpoint, layout, values, load_classifier);
  model::BertConfig want = config;
  const model::Family& family = config.family();
  const std::string classifier_weight = family.HfName("classifier.weight");
  const std::string classifier_bias = family.HfName("classifier.bias");
  const bool has_classifier = load_classifier && checkpoint.Find(classifier_weight) != nullptr;
  MG_ASSIGN_OR_RETURN(model::BertWeights w, model::LoadBertWeights(checkpoint, want, false));
  auto put = [&](size_t offset, const std::vector<float>& v) {
    std::copy(v.begin(), v.end(), values->begin() + offset);
  };
  put(layout.word_embeddings, w.word_embeddings);
  put(layout.position_embeddings, w.position_embeddings);
  if (layout.types > 0) put(layout.token_type_embeddings, w.token_type_embeddings);
  put(layout.embedding_norm_gamma, w.embedding_norm_gamma);
  put(layout.embedding_norm_beta, w.embedding_norm_beta);
  for (int64_t i = 0; i < layout.layers; ++i) {
    const model::BertLayerWeights& s = w.layers[i];
    const LayerOffsets& o = layout.layer[i];
    put(o.qkv_weight, s.qkv_weight);
    put(o.qkv_bias, s.qkv_bias);
    put(o.attention_output_weight, s.attention_output_weight);
    put(o.attention_output_bias, s.attention_output_bias);
    put(o.attention_norm_gamma, s.attention_norm_gamma);
    put(o.attention_norm_beta, s.attention_norm_beta);
    put(o.intermediate_weight, s.intermediate_weight);
    put(o.intermediate_bias, s.intermediate_bias);
    put(o.output_weight, s.output_weight);
    put(o.output_bias, s.output_bias);
    put(o.output_norm_gamma, s.output_norm_gamma);
    put(o.output_norm_beta, s.output_norm_beta);
  }
  if (w.has_pooler()) {
    put(layout.pooler_weight, w.pooler_weight);
    put(layout.pooler_bias, w.pooler_bias);
  }
  if (has_classifier) {
    const model::TensorRecord* cw = checkpoint.Find(classifier_weight);
    const model::TensorRecord* cb = checkpoint.Find(classifier_bias);
    if (cb != nullptr && cw->numel() == static_cast<size_t>(layout.labels * layout.hidden) &&
        cb->numel() == static_cast<size_t>(layout.labels)) {
      MG_RETURN_IF_ERROR(checkpoint.ReadF32(*cw, values->data() + layout.classifier_weight));
      MG_RETURN_IF_ERROR(checkpoint.ReadF32(*cb, values->data() + layout.classifier_bias));
    }
  }
  return Status::Ok();
}

}  // namespace mg::train
