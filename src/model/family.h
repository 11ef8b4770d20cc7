// Family: the one place where an encoder family is described — which
// config.json model_type values belong to it, how its tensors are named, how
// its token positions are numbered and what its classification head does.
//
// BERT, DistilBERT and RoBERTa are post-LayerNorm Transformer encoders with
// the same layer (fused Q/K/V attention, output projection, LayerNorm, GELU
// feed-forward, LayerNorm), so their encoder, training net and LoRA code stay
// one implementation; they read the few switches below. ModernBERT
// (pre-LayerNorm layers, rotary positions, alternating global and
// sliding-window attention, GeGLU feed-forward) has its own encoder
// (model/modernbert_encoder.h); `pre_norm` marks it, and its layer tensors
// have no canonical BERT names (layer_modules is empty).
//
// Internally every tensor has a canonical name, BERT's without a prefix:
//   embeddings.{word_embeddings,position_embeddings,token_type_embeddings,LayerNorm}.*
//   encoder.layer.N.attention.self.{query,key,value}.*
//   encoder.layer.N.{attention.output.dense,attention.output.LayerNorm,
//                    intermediate.dense,output.dense,output.LayerNorm}.*
//   pooler.dense.*   the head's hidden projection (BERT pooler, RoBERTa
//                    classifier.dense, DistilBERT pre_classifier)
//   classifier.*     the head's output projection
// HfName() maps a canonical name to the family's Hugging Face name and
// CanonicalName() maps back. Adding a family means adding one entry to the
// table in family.cc (and, only if its layer differs, a switch here).
//
// Families are immutable statics; every function is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mg::model {

enum class FamilyId { kBert, kDistilBert, kRoberta, kModernBert };

// The activation between the head's two projections.
// (ModernBERT's head reads its activation from config.json instead.)
enum class HeadActivation { kTanh, kRelu };

// A config.json model_type of a family and the class-name stem its
// architectures use ("xlm-roberta" -> "XLMRoberta").
struct ModelType {
  std::string_view model_type;
  std::string_view class_stem;
};

// The config.json keys of the encoder's shape, where a family spells them
// its own way (DistilBERT: dim, n_layers, n_heads, hidden_dim, activation).
struct ConfigKeys {
  std::string_view hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
      hidden_act;
};

struct Family {
  FamilyId id;
  std::string_view name;  // for messages and docs: "BERT", "DistilBERT", "RoBERTa", "ModernBERT"
  // The model_type values it reads; the first is what training writes for a
  // model from scratch (a loaded model keeps its own, e.g. "xlm-roberta").
  std::vector<ModelType> model_types;
  ConfigKeys keys;
  int64_t default_pad_token_id;
  // Whether config.json sets layer_norm_eps (DistilBERT's is fixed at 1e-12)
  // and the type vocabulary (DistilBERT has none: type_vocab_size 0).
  bool reads_layer_norm_eps;
  // The prefix of the encoder's tensors in a task checkpoint ("bert.").
  std::string_view prefix;
  // Per-layer module names, in canonical order: query, key, value,
  // attention output, attention LayerNorm, intermediate, output, output
  // LayerNorm; and the layer list ("encoder.layer").
  std::string_view layer_list;
  std::vector<std::string_view> layer_modules;
  // The head's projections (without ".weight"/".bias").
  std::string_view head_dense;
  std::string_view head_out;
  HeadActivation head_activation;
  // The head's modules as PEFT's modules_to_save names them.
  std::vector<std::string_view> head_modules;
  // Token type (segment) embeddings exist.
  bool token_types;
  // Positions start after the padding id and skip padding tokens (RoBERTa):
  // position = pad_token_id + 1 + (non-padding tokens so far); padding
  // tokens get pad_token_id. Otherwise position = index in the sequence.
  bool positions_after_padding;
  // The LoRA target names PEFT uses for query, key and value (empty: LoRA
  // adapters are not supported for the family).
  std::vector<std::string_view> lora_targets;
  // Pre-LayerNorm ModernBERT layers (model/modernbert_encoder.h) rather than
  // the shared post-LayerNorm BERT layer.
  bool pre_norm = false;
  // The modules of a layer that are linear projections (Hugging Face names,
  // within the layer): the matrices the engine packs in the model's
  // precision (kernels/packed_linear.h), and that a release in reduced
  // precision stores quantised (model/stored_precision.h).
  std::vector<std::string_view> linear_modules;
  // The word-embedding table's module, without the prefix.
  std::string_view word_embeddings = "embeddings.word_embeddings";
  // The head drops out its input (the first token's state) as well as its
  // hidden projection's output in training (RoBERTa's
  // RobertaClassificationHead); otherwise only the latter.
  bool head_input_dropout = false;

  // Hugging Face name of a canonical tensor name (see above), with the
  // family's prefix for encoder tensors.
  std::string HfName(std::string_view canonical) const;
  // Canonical name of a Hugging Face tensor name (with or without the
  // prefix); nullopt when it is not one of this family's tensors.
  std::optional<std::string> CanonicalName(std::string_view hf) const;
  // The projection index (0 query, 1 key, 2 value) a PEFT target module
  // names ("query", "attention.self.query", "q_lin", a full path), or -1.
  int LoraTargetIndex(std::string_view target) const;
  // True for the weight of one of the layers' linear_modules, and for the
  // word-embedding table's weight, under the family's Hugging Face name
  // (with or without the prefix).
  bool IsLayerLinearWeight(std::string_view hf) const;
  bool IsWordEmbeddings(std::string_view hf) const;
  // True for the head's tensors (the BERT pooler included), whatever the
  // family's spelling.
  bool IsHeadTensor(std::string_view hf) const;
  // True when `architecture` is one of the family's classes (e.g.
  // "XLMRobertaForSequenceClassification").
  bool KnowsArchitecture(std::string_view architecture) const;
  // The sequence-classifier and the plain-encoder architectures for
  // `model_type` ("XLMRobertaForSequenceClassification", "XLMRobertaModel").
  std::string ClassifierArchitecture(std::string_view model_type) const;
  std::string BaseArchitecture(std::string_view model_type) const;
};

const Family& BertFamily();
const Family& DistilBertFamily();
const Family& RobertaFamily();
const Family& ModernBertFamily();
const Family& FamilyOf(FamilyId id);

// The family that reads `model_type` ("bert", "distilbert", "roberta",
// "xlm-roberta", "camembert", "modernbert"); an error lists the supported ones.
Result<const Family*> FamilyForModelType(std::string_view model_type);

// The model_type values that are supported, for messages and docs.
std::string SupportedModelTypes();

// Position ids of one sequence of `length` token ids under the family's rule.
void PositionIds(const Family& family, const int32_t* ids, int64_t length, int64_t pad_token_id,
                 int32_t* out);

// True when any family's head owns `name` (used where no config is at hand).
bool IsAnyHeadTensor(std::string_view name);

}  // namespace mg::model
