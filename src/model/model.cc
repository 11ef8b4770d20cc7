#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"
#include "model/bert_encoder.h"
#include "model/checkpoint.h"
#include "model/lora_adapter.h"
#include "model/modernbert_encoder.h"

namespace mg::model {

Result<Pooling> ParsePooling(std::string_view name) {
  if (name == "mean") return Pooling::kMean;
  if (name == "cls") return Pooling::kCls;
  return InvalidArgumentError("unknown pooling \"" + std::string(name) +
                              "\" (expected mean or cls)");
}

Result<std::unique_ptr<Model>> Model::Load(const std::string& dir, const LoadOptions& options) {
  MG_ASSIGN_OR_RETURN(std::string config_text, ReadFile(JoinPath(dir, "config.json")));
  MG_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::OpenFolder(dir));
  MG_ASSIGN_OR_RETURN(text::Tokenizer tokenizer, text::Tokenizer::Load(dir));
  std::string pooling_text;
  const std::string pooling_path = JoinPath(dir, "1_Pooling/config.json");
  if (FileExists(pooling_path)) {
    MG_ASSIGN_OR_RETURN(pooling_text, ReadFile(pooling_path));
  }
  if (!HasLoraAdapter(dir))
    return FromParts(config_text, checkpoint, std::move(tokenizer), pooling_text, dir, {}, nullptr,
                     {}, options);
  const std::string adapter_config_path = JoinPath(dir, kAdapterConfigFile);
  const std::string adapter_weights_path = JoinPath(dir, kAdapterWeightsFile);
  if (!FileExists(adapter_config_path) || !FileExists(adapter_weights_path)) {
    return CorruptionError(dir + " holds half a LoRA adapter: " + kAdapterConfigFile + " and " +
                           kAdapterWeightsFile + " go together");
  }
  MG_ASSIGN_OR_RETURN(std::string adapter_config, ReadFile(adapter_config_path));
  MG_ASSIGN_OR_RETURN(Checkpoint adapter_weights, Checkpoint::OpenFile(adapter_weights_path));
  return FromParts(config_text, checkpoint, std::move(tokenizer), pooling_text, dir, adapter_config,
                   &adapter_weights, {}, options);
}

Result<std::unique_ptr<Model>> Model::FromParts(
    std::string_view config_json, const Checkpoint& checkpoint, text::Tokenizer tokenizer,
    std::string_view pooling_config, const std::string& dir, std::string_view adapter_config,
    const Checkpoint* adapter_weights, const std::string& adapter_name,
    const LoadOptions& options) {
  std::unique_ptr<Model> model(new Model());
  MG_ASSIGN_OR_RETURN(BertConfig config,
                      ParseBertConfig(std::string(config_json), JoinPath(dir, "config.json")));
  const bool classifier = config.is_sequence_classifier();
  std::optional<LoraAdapter> adapter;
  if (adapter_weights != nullptr || !adapter_config.empty()) {
    if (config.family().lora_targets.empty() && config.family_id != FamilyId::kModernBert) {
      return UnimplementedError(dir + ": LoRA adapters are not supported for " +
                                std::string(config.family().name) + " models");
    }
    if (adapter_weights == nullptr || adapter_config.empty()) {
      return CorruptionError(dir + " holds half a LoRA adapter: " + kAdapterConfigFile + " and " +
                             kAdapterWeightsFile + " go together");
    }
    MG_ASSIGN_OR_RETURN(adapter, ParseLoraAdapter(adapter_config, *adapter_weights, config,
                                                  adapter_name.empty() ? dir : adapter_name));
  }
  // Each layer is merged with the adapter (in F32) and packed as soon as it
  // is read, so the whole model never sits in memory as F32 at once.
  std::vector<BertEncoder::PackedLayer> packed;
  packed.reserve(static_cast<size_t>(config.num_hidden_layers));
  auto pack = [&](int64_t index, BertLayerWeights* layer) {
    if (adapter) MergeLoraLayer(*adapter, index, layer);
    packed.push_back(BertEncoder::PackLayer(config, layer, options.precision));
  };
  // An adapter may carry the classifier head (modules_to_save) the base lacks.
  // ModernBERT's layers differ; its encoder packs them after loading.
  Result<BertWeights> weights =
      LoadBertWeights(checkpoint, config, classifier && !(adapter && adapter->has_classifier()),
                      config.family().pre_norm ? LayerSink() : LayerSink(pack),
                      options.precision != kernels::Precision::kF32);
  if (!weights.ok()) return weights.status().WithContext(dir);
  if (adapter) {
    if (config.family().pre_norm) {  // layers not packed as read: merged here
      for (size_t index = 0; index < weights->layers.size(); ++index)
        MergeLoraLayer(*adapter, static_cast<int64_t>(index), &weights->layers[index]);
    }
    MergeLoraHead(*adapter, &*weights);
    if (classifier && !weights->has_pooler())
      return NotFoundError(dir + ": a sequence classifier needs " +
                           std::string(config.family().head_dense) + ".* tensors");
  }
  model->tokenizer_ = std::make_unique<text::Tokenizer>(std::move(tokenizer));

  const int64_t vocab = static_cast<int64_t>(model->tokenizer_->vocab().size());
  if (vocab > config.vocab_size) {
    model->warnings_.push_back("the tokenizer has " + std::to_string(vocab) +
                               " tokens but the model only " + std::to_string(config.vocab_size) +
                               " (vocab_size); tokens with ids " +
                               std::to_string(config.vocab_size) + ".." +
                               std::to_string(vocab - 1) + " are read as the unknown token");
  }
  model->max_length_ = static_cast<size_t>(config.max_tokens());
  const size_t tokenizer_limit = model->tokenizer_->model_max_length();
  if (tokenizer_limit > 0 && tokenizer_limit < model->max_length_)
    model->max_length_ = tokenizer_limit;

  if (!pooling_config.empty()) {
    const std::string pooling_path = JoinPath(dir, "1_Pooling/config.json");
    MG_RETURN_IF_ERROR(CheckJsonDepth(pooling_config).WithContext(pooling_path));
    nlohmann::json pooling = nlohmann::json::parse(pooling_config, nullptr, false);
    if (pooling.is_discarded() || !pooling.is_object())
      return CorruptionError(pooling_path + ": not a JSON object");
    if (pooling.value("pooling_mode_cls_token", false)) {
      model->default_pooling_ = Pooling::kCls;
    } else if (!pooling.value("pooling_mode_mean_tokens", true)) {
      return UnimplementedError(pooling_path + ": only mean and CLS pooling are supported");
    }
  }
  if (config.family().pre_norm) {
    model->encoder_ = std::make_unique<ModernBertEncoder>(
        std::move(config), std::move(weights).value(), options.precision);
  } else {
    model->encoder_ = std::make_unique<BertEncoder>(std::move(config), std::move(weights).value(),
                                                    std::move(packed));
  }
  return model;
}

Status Model::Pack(const std::vector<std::string_view>& texts,
                   const std::vector<std::optional<std::string_view>>& pairs,
                   PackedBatch* batch) const {
  batch->Clear();
  text::EncodeOptions options;
  options.max_length = max_length_;
  text::Encoding encoding;
  const int32_t vocab_size = static_cast<int32_t>(config().vocab_size);
  const int32_t unk = tokenizer_->unk_id();
  const int32_t type_limit = static_cast<int32_t>(config().type_vocab_size);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string_view* pair = i < pairs.size() && pairs[i] ? &*pairs[i] : nullptr;
    MG_RETURN_IF_ERROR(tokenizer_->Encode(texts[i], pair, options, &encoding));
    for (size_t t = 0; t < encoding.size(); ++t) {
      int32_t id = encoding.ids[t];
      if (id >= vocab_size) id = unk >= 0 && unk < vocab_size ? unk : 0;
      batch->ids.push_back(id);
      batch->type_ids.push_back(encoding.type_ids[t] < type_limit ? encoding.type_ids[t] : 0);
    }
    batch->offsets.push_back(batch->tokens());
  }
  return Status::Ok();
}

void Model::Embed(const PackedBatch& batch, Pooling pooling, bool normalize, EncoderWorkspace* ws,
                  std::vector<float>* out) const {
  const Tensor& hidden = encoder_->Forward(batch, ws);
  const int64_t h = config().hidden_size;
  const float* states = hidden.data<float>();
  out->assign(static_cast<size_t>(batch.sequences() * h), 0.0f);
  for (int64_t s = 0; s < batch.sequences(); ++s) {
    float* row = out->data() + s * h;
    const int64_t first = batch.offsets[s];
    const int64_t length = batch.length(s);
    if (pooling == Pooling::kCls || length == 0) {
      if (length > 0) std::copy_n(states + first * h, h, row);
    } else {
      for (int64_t t = first; t < first + length; ++t) {
        for (int64_t c = 0; c < h; ++c) row[c] += states[t * h + c];
      }
      for (int64_t c = 0; c < h; ++c) row[c] /= static_cast<float>(length);
    }
    if (normalize) {
      double norm = 0;
      for (int64_t c = 0; c < h; ++c) norm += static_cast<double>(row[c]) * row[c];
      const float inv =
          norm > 0 ? static_cast<float>(1.0 / std::max(std::sqrt(norm), 1e-12)) : 0.0f;
      for (int64_t c = 0; c < h; ++c) row[c] *= inv;
    }
  }
}

void ActivateScores(ProblemType problem, float* row, int64_t labels) {
  switch (problem) {
    case ProblemType::kSingleLabel: {
      float max = row[0];
      for (int64_t c = 1; c < labels; ++c) max = std::max(max, row[c]);
      double sum = 0;
      for (int64_t c = 0; c < labels; ++c) sum += std::exp(static_cast<double>(row[c] - max));
      for (int64_t c = 0; c < labels; ++c)
        row[c] = static_cast<float>(std::exp(static_cast<double>(row[c] - max)) / sum);
      break;
    }
    case ProblemType::kMultiLabel:
      for (int64_t c = 0; c < labels; ++c) row[c] = 1.0f / (1.0f + std::exp(-row[c]));
      break;
    case ProblemType::kRegression:
      break;
  }
}

void Model::Classify(const PackedBatch& batch, EncoderWorkspace* ws,
                     std::vector<float>* out) const {
  const Tensor& hidden = encoder_->Forward(batch, ws);
  encoder_->Classify(batch, hidden, ws, out);
  const int64_t labels = static_cast<int64_t>(config().labels.size());
  for (int64_t s = 0; s < batch.sequences(); ++s) {
    ActivateScores(config().problem_type, out->data() + s * labels, labels);
  }
}

}  // namespace mg::model
