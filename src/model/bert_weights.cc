#include "model/bert_weights.h"

#include <algorithm>
#include <initializer_list>

#include "kernels/gemm_bf16.h"  // Bf16ToFloat, ToBf16Parallel
#include "model/modernbert_weights.h"

namespace mg::model {
namespace {

class WeightReader {
 public:
  WeightReader(const Checkpoint& checkpoint, const Family& family)
      : checkpoint_(checkpoint), family_(family) {}

  // The record for the canonical `name` (model/family.h) under the family's
  // Hugging Face name, with or without its prefix ("bert."), and with
  // LayerNorm weight/bias or gamma/beta.
  const TensorRecord* Lookup(const std::string& name) const {
    const std::string full = family_.HfName(name);
    const std::string_view prefix = family_.prefix;
    for (const std::string& candidate : Spellings(full)) {
      if (const TensorRecord* record = checkpoint_.Find(candidate)) return record;
      if (candidate.starts_with(prefix)) {
        if (const TensorRecord* record = checkpoint_.Find(candidate.substr(prefix.size())))
          return record;
      }
    }
    return nullptr;
  }

  Status Read(const std::string& name, std::initializer_list<int64_t> shape,
              std::vector<float>* out) const {
    const TensorRecord* record = Lookup(name);
    if (!record) return NotFoundError("checkpoint has no tensor \"" + family_.HfName(name) + "\"");
    const std::vector<int64_t> expected(shape);
    if (record->shape != expected) {
      return CorruptionError(record->file + ": tensor \"" + record->name + "\" has shape " +
                             ShapeText(record->shape) + ", expected " + ShapeText(expected));
    }
    size_t count = 1;
    for (int64_t d : expected) count *= static_cast<size_t>(d);
    out->resize(count);
    MG_RETURN_IF_ERROR(checkpoint_.ReadF32(*record, out->data()));
    checkpoint_.DropPages(*record);
    return Status::Ok();
  }

  // Reads rows [row, row + rows) of a [*, cols] destination from `name`.
  Status ReadInto(const std::string& name, int64_t rows, int64_t cols, float* dst) const {
    std::vector<float> part;
    if (cols == 1) {
      MG_RETURN_IF_ERROR(Read(name, {rows}, &part));
    } else {
      MG_RETURN_IF_ERROR(Read(name, {rows, cols}, &part));
    }
    std::copy(part.begin(), part.end(), dst);
    return Status::Ok();
  }

 private:
  static std::vector<std::string> Spellings(const std::string& name) {
    std::vector<std::string> names = {name};
    const std::string norm_weight = "LayerNorm.weight", norm_bias = "LayerNorm.bias";
    if (name.size() > norm_weight.size() &&
        name.compare(name.size() - norm_weight.size(), norm_weight.size(), norm_weight) == 0) {
      names.push_back(name.substr(0, name.size() - 6) + "gamma");
    }
    if (name.size() > norm_bias.size() &&
        name.compare(name.size() - norm_bias.size(), norm_bias.size(), norm_bias) == 0) {
      names.push_back(name.substr(0, name.size() - 4) + "beta");
    }
    return names;
  }

  const Checkpoint& checkpoint_;
  const Family& family_;
};

}  // namespace

size_t BertWeights::bytes() const {
  size_t floats = word_embeddings.size() + position_embeddings.size() +
                  token_type_embeddings.size() + embedding_norm_gamma.size() +
                  embedding_norm_beta.size() + pooler_weight.size() + pooler_bias.size() +
                  classifier_weight.size() + classifier_bias.size() + final_norm_gamma.size() +
                  final_norm_beta.size() + head_norm_gamma.size() + head_norm_beta.size();
  for (const BertLayerWeights& l : layers) {
    floats += l.qkv_weight.size() + l.qkv_bias.size() + l.attention_output_weight.size() +
              l.attention_output_bias.size() + l.attention_norm_gamma.size() +
              l.attention_norm_beta.size() + l.intermediate_weight.size() +
              l.intermediate_bias.size() + l.output_weight.size() + l.output_bias.size() +
              l.output_norm_gamma.size() + l.output_norm_beta.size();
  }
  return floats * sizeof(float) + word_embeddings_bf16.size() * sizeof(uint16_t);
}

void BertWeights::StoreWordEmbeddingsAsBf16() {
  if (word_embeddings.empty()) return;
  word_embeddings_bf16.resize(word_embeddings.size());
  kernels::ToBf16Parallel(word_embeddings.data(), static_cast<int64_t>(word_embeddings.size()),
                          word_embeddings_bf16.data());
  std::vector<float>().swap(word_embeddings);
}

void BertWeights::CopyWordRow(int32_t id, int64_t hidden, float* out) const {
  const int64_t first = static_cast<int64_t>(id) * hidden;
  if (word_embeddings_bf16.empty()) {
    std::copy_n(word_embeddings.data() + first, hidden, out);
    return;
  }
  const uint16_t* row = word_embeddings_bf16.data() + first;
  for (int64_t c = 0; c < hidden; ++c) out[c] = kernels::Bf16ToFloat(row[c]);
}

Result<BertWeights> LoadBertWeights(const Checkpoint& checkpoint, const BertConfig& config,
                                    bool want_classifier, const LayerSink& on_layer,
                                    bool bf16_word_embeddings) {
  const Family& family = config.family();
  if (family.pre_norm) {
    Result<BertWeights> w = LoadModernBertWeights(checkpoint, config, want_classifier);
    if (w.ok() && bf16_word_embeddings) w->StoreWordEmbeddingsAsBf16();
    return w;
  }
  const WeightReader reader(checkpoint, family);
  const int64_t h = config.hidden_size;
  const int64_t inter = config.intermediate_size;
  BertWeights w;
  MG_RETURN_IF_ERROR(
      reader.Read("embeddings.word_embeddings.weight", {config.vocab_size, h}, &w.word_embeddings));
  if (bf16_word_embeddings) w.StoreWordEmbeddingsAsBf16();
  MG_RETURN_IF_ERROR(reader.Read("embeddings.position_embeddings.weight",
                                 {config.max_position_embeddings, h}, &w.position_embeddings));
  if (family.token_types) {
    MG_RETURN_IF_ERROR(reader.Read("embeddings.token_type_embeddings.weight",
                                   {config.type_vocab_size, h}, &w.token_type_embeddings));
  }
  MG_RETURN_IF_ERROR(reader.Read("embeddings.LayerNorm.weight", {h}, &w.embedding_norm_gamma));
  MG_RETURN_IF_ERROR(reader.Read("embeddings.LayerNorm.bias", {h}, &w.embedding_norm_beta));
  w.layers.resize(static_cast<size_t>(config.num_hidden_layers));
  for (int64_t index = 0; index < config.num_hidden_layers; ++index) {
    BertLayerWeights& l = w.layers[static_cast<size_t>(index)];
    const std::string p = "encoder.layer." + std::to_string(index) + ".";
    l.qkv_weight.resize(static_cast<size_t>(3 * h * h));
    l.qkv_bias.resize(static_cast<size_t>(3 * h));
    const char* parts[] = {"query", "key", "value"};
    for (int part = 0; part < 3; ++part) {
      const std::string base = p + "attention.self." + parts[part];
      MG_RETURN_IF_ERROR(
          reader.ReadInto(base + ".weight", h, h, l.qkv_weight.data() + part * h * h));
      MG_RETURN_IF_ERROR(reader.ReadInto(base + ".bias", h, 1, l.qkv_bias.data() + part * h));
    }
    MG_RETURN_IF_ERROR(
        reader.Read(p + "attention.output.dense.weight", {h, h}, &l.attention_output_weight));
    MG_RETURN_IF_ERROR(
        reader.Read(p + "attention.output.dense.bias", {h}, &l.attention_output_bias));
    MG_RETURN_IF_ERROR(
        reader.Read(p + "attention.output.LayerNorm.weight", {h}, &l.attention_norm_gamma));
    MG_RETURN_IF_ERROR(
        reader.Read(p + "attention.output.LayerNorm.bias", {h}, &l.attention_norm_beta));
    MG_RETURN_IF_ERROR(
        reader.Read(p + "intermediate.dense.weight", {inter, h}, &l.intermediate_weight));
    MG_RETURN_IF_ERROR(reader.Read(p + "intermediate.dense.bias", {inter}, &l.intermediate_bias));
    MG_RETURN_IF_ERROR(reader.Read(p + "output.dense.weight", {h, inter}, &l.output_weight));
    MG_RETURN_IF_ERROR(reader.Read(p + "output.dense.bias", {h}, &l.output_bias));
    MG_RETURN_IF_ERROR(reader.Read(p + "output.LayerNorm.weight", {h}, &l.output_norm_gamma));
    MG_RETURN_IF_ERROR(reader.Read(p + "output.LayerNorm.bias", {h}, &l.output_norm_beta));
    if (on_layer) on_layer(index, &l);
  }
  if (reader.Lookup("pooler.dense.weight")) {
    MG_RETURN_IF_ERROR(reader.Read("pooler.dense.weight", {h, h}, &w.pooler_weight));
    MG_RETURN_IF_ERROR(reader.Read("pooler.dense.bias", {h}, &w.pooler_bias));
  }
  if (want_classifier) {
    const int64_t labels = static_cast<int64_t>(config.labels.size());
    MG_RETURN_IF_ERROR(reader.Read("classifier.weight", {labels, h}, &w.classifier_weight));
    MG_RETURN_IF_ERROR(reader.Read("classifier.bias", {labels}, &w.classifier_bias));
    if (!w.has_pooler())
      return NotFoundError("a sequence classifier needs " + std::string(family.head_dense) +
                           ".* tensors");
  }
  return w;
}

}  // namespace mg::model
