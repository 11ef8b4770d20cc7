#include "model/modernbert_weights.h"

#include <initializer_list>

namespace mg::model {
namespace {

class Reader {
 public:
  explicit Reader(const Checkpoint& checkpoint) : checkpoint_(checkpoint) {}

  // The encoder's tensors carry the "model." prefix in a task checkpoint and
  // none in a bare ModernBertModel one; the head's never do.
  const TensorRecord* Lookup(const std::string& name, bool encoder) const {
    if (encoder) {
      if (const TensorRecord* record = checkpoint_.Find("model." + name)) return record;
    }
    return checkpoint_.Find(name);
  }

  Status Read(const std::string& name, bool encoder, std::initializer_list<int64_t> shape,
              std::vector<float>* out) const {
    const TensorRecord* record = Lookup(name, encoder);
    if (!record)
      return NotFoundError("checkpoint has no tensor \"" + (encoder ? "model." : std::string()) +
                           name + "\"");
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

  // A LayerNorm: weight, and bias when `bias` (else zeros).
  Status ReadNorm(const std::string& module, bool encoder, bool bias, int64_t hidden,
                  std::vector<float>* gamma, std::vector<float>* beta) const {
    MG_RETURN_IF_ERROR(Read(module + ".weight", encoder, {hidden}, gamma));
    if (bias) return Read(module + ".bias", encoder, {hidden}, beta);
    beta->assign(static_cast<size_t>(hidden), 0.0f);
    return Status::Ok();
  }

  // A linear layer [out, in], and its bias [out] when `bias`.
  Status ReadLinear(const std::string& module, bool encoder, bool bias, int64_t out, int64_t in,
                    std::vector<float>* weight, std::vector<float>* bias_out) const {
    MG_RETURN_IF_ERROR(Read(module + ".weight", encoder, {out, in}, weight));
    if (bias) return Read(module + ".bias", encoder, {out}, bias_out);
    return Status::Ok();
  }

 private:
  const Checkpoint& checkpoint_;
};

}  // namespace

Result<BertWeights> LoadModernBertWeights(const Checkpoint& checkpoint, const BertConfig& config,
                                          bool want_classifier) {
  const ModernBertSettings& s = config.modernbert;
  const Reader reader(checkpoint);
  const int64_t h = config.hidden_size;
  const int64_t inter = config.intermediate_size;
  BertWeights w;
  MG_RETURN_IF_ERROR(reader.Read("embeddings.tok_embeddings.weight", true, {config.vocab_size, h},
                                 &w.word_embeddings));
  MG_RETURN_IF_ERROR(reader.ReadNorm("embeddings.norm", true, s.norm_bias, h,
                                     &w.embedding_norm_gamma, &w.embedding_norm_beta));
  w.layers.resize(static_cast<size_t>(config.num_hidden_layers));
  for (int64_t index = 0; index < config.num_hidden_layers; ++index) {
    BertLayerWeights& l = w.layers[static_cast<size_t>(index)];
    const std::string p = "layers." + std::to_string(index) + ".";
    // Layer 0's attn_norm is the identity: the embeddings' norm precedes it.
    if (index > 0) {
      MG_RETURN_IF_ERROR(reader.ReadNorm(p + "attn_norm", true, s.norm_bias, h,
                                         &l.attention_norm_gamma, &l.attention_norm_beta));
    }
    MG_RETURN_IF_ERROR(reader.ReadLinear(p + "attn.Wqkv", true, s.attention_bias, 3 * h, h,
                                         &l.qkv_weight, &l.qkv_bias));
    MG_RETURN_IF_ERROR(reader.ReadLinear(p + "attn.Wo", true, s.attention_bias, h, h,
                                         &l.attention_output_weight, &l.attention_output_bias));
    MG_RETURN_IF_ERROR(reader.ReadNorm(p + "mlp_norm", true, s.norm_bias, h, &l.output_norm_gamma,
                                       &l.output_norm_beta));
    MG_RETURN_IF_ERROR(reader.ReadLinear(p + "mlp.Wi", true, s.mlp_bias, 2 * inter, h,
                                         &l.intermediate_weight, &l.intermediate_bias));
    MG_RETURN_IF_ERROR(reader.ReadLinear(p + "mlp.Wo", true, s.mlp_bias, h, inter, &l.output_weight,
                                         &l.output_bias));
  }
  MG_RETURN_IF_ERROR(
      reader.ReadNorm("final_norm", true, s.norm_bias, h, &w.final_norm_gamma, &w.final_norm_beta));
  if (want_classifier) {
    const int64_t labels = static_cast<int64_t>(config.labels.size());
    MG_RETURN_IF_ERROR(reader.ReadLinear("head.dense", false, s.classifier_bias, h, h,
                                         &w.pooler_weight, &w.pooler_bias));
    if (w.pooler_bias.empty()) w.pooler_bias.assign(static_cast<size_t>(h), 0.0f);
    MG_RETURN_IF_ERROR(
        reader.ReadNorm("head.norm", false, s.norm_bias, h, &w.head_norm_gamma, &w.head_norm_beta));
    MG_RETURN_IF_ERROR(reader.ReadLinear("classifier", false, true, labels, h, &w.classifier_weight,
                                         &w.classifier_bias));
  }
  return w;
}

}  // namespace mg::model
