#include "train/hf_folder.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "model/safetensors_writer.h"
#include "text/hf_tokenizer_files.h"

namespace mg::train {

using nlohmann::json;

const char* ProblemTypeName(model::ProblemType problem) {
  switch (problem) {
    case model::ProblemType::kMultiLabel:
      return "multi_label_classification";
    case model::ProblemType::kRegression:
      return "regression";
    case model::ProblemType::kSingleLabel:
      break;
  }
  return "single_label_classification";
}

Result<model::ProblemType> ParseProblemType(const std::string& name) {
  if (name == "single_label_classification" || name == "single_label")
    return model::ProblemType::kSingleLabel;
  if (name == "multi_label_classification" || name == "multi_label")
    return model::ProblemType::kMultiLabel;
  if (name == "regression") return model::ProblemType::kRegression;
  return InvalidArgumentError("unknown problem type \"" + name +
                              "\" (expected single_label_classification, "
                              "multi_label_classification or regression)");
}

namespace {

// ModernBERT's own config.json keys. The attention pattern is written as
// global_attn_every_n_layers when it is that regular pattern (as every
// released ModernBERT), else as layer_types.
void WriteModernBertSettings(const model::BertConfig& config, json* root) {
  const model::ModernBertSettings& m = config.modernbert;
  json& r = *root;
  // The float's shortest decimal form (1e-05, not 9.99999974e-06).
  char eps[32];
  std::snprintf(eps, sizeof eps, "%.7g", static_cast<double>(config.layer_norm_eps));
  r["norm_eps"] = std::strtod(eps, nullptr);
  r["norm_bias"] = m.norm_bias;
  r["attention_bias"] = m.attention_bias;
  r["mlp_bias"] = m.mlp_bias;
  r["classifier_bias"] = m.classifier_bias;
  r["global_rope_theta"] = m.global_rope_theta;
  r["local_rope_theta"] = m.local_rope_theta;
  r["local_attention"] = m.local_attention;
  const int64_t layers = static_cast<int64_t>(m.sliding_layers.size());
  auto regular = [&](int64_t n) {
    for (int64_t i = 0; i < layers; ++i)
      if (m.sliding_layers[i] != (i % n != 0)) return false;
    return true;
  };
  // ModernBERT's own 3 first, then the smallest period that fits.
  int64_t every = regular(3) ? 3 : 0;
  for (int64_t n = 1; n <= std::max<int64_t>(layers, 1) && every == 0; ++n)
    if (regular(n)) every = n;
  if (every > 0) {
    r["global_attn_every_n_layers"] = every;
  } else {
    json types = json::array();
    for (bool sliding : m.sliding_layers)
      types.push_back(sliding ? "sliding_attention" : "full_attention");
    r["layer_types"] = types;
  }
  r["classifier_pooling"] = m.classifier_mean_pooling ? "mean" : "cls";
  const char* activation = "gelu";
  if (m.classifier_activation == model::ClassifierActivation::kTanh) activation = "tanh";
  if (m.classifier_activation == model::ClassifierActivation::kRelu) activation = "relu";
  r["classifier_activation"] = activation;
  for (const char* key :
       {"embedding_dropout", "attention_dropout", "mlp_dropout", "classifier_dropout"})
    r[key] = 0.0;
}

}  // namespace

std::string ConfigJson(const model::BertConfig& config, const std::vector<std::string>& labels) {
  const model::Family& family = config.family();
  json root;
  root["architectures"] = {family.ClassifierArchitecture(config.model_type)};
  root["model_type"] = config.model_type;
  root["vocab_size"] = config.vocab_size;
  const model::ConfigKeys& keys = family.keys;
  root[std::string(keys.hidden_size)] = config.hidden_size;
  root[std::string(keys.num_hidden_layers)] = config.num_hidden_layers;
  root[std::string(keys.num_attention_heads)] = config.num_attention_heads;
  root[std::string(keys.intermediate_size)] = config.intermediate_size;
  root[std::string(keys.hidden_act)] = "gelu";
  if (family.id == model::FamilyId::kModernBert) {
    WriteModernBertSettings(config, &root);
  } else if (family.id == model::FamilyId::kDistilBert) {
    root["dropout"] = 0.1;
    root["attention_dropout"] = 0.1;
    root["seq_classif_dropout"] = 0.1;
    root["sinusoidal_pos_embds"] = false;
  } else {
    root["hidden_dropout_prob"] = 0.1;
    root["attention_probs_dropout_prob"] = 0.1;
  }
  root["max_position_embeddings"] = config.max_position_embeddings;
  if (family.token_types) root["type_vocab_size"] = config.type_vocab_size;
  root["initializer_range"] = 0.02;
  if (family.reads_layer_norm_eps) root["layer_norm_eps"] = config.layer_norm_eps;
  root["pad_token_id"] = config.pad_token_id;
  if (family.id == model::FamilyId::kBert || family.id == model::FamilyId::kRoberta)
    root["position_embedding_type"] = "absolute";
  root["problem_type"] = ProblemTypeName(config.problem_type);
  json id2label = json::object(), label2id = json::object();
  for (size_t i = 0; i < labels.size(); ++i) {
    id2label[std::to_string(i)] = labels[i];
    label2id[labels[i]] = i;
  }
  root["id2label"] = id2label;
  root["label2id"] = label2id;
  root["num_labels"] = labels.size();
  return root.dump(2) + "\n";
}

Status WriteParamsSafetensors(const std::string& path, const ParamLayout& layout,
                              const float* values,
                              const std::map<std::string, std::string>& metadata) {
  std::vector<model::TensorToWrite> tensors;
  for (const ParamTensor& t : layout.tensors) {
    model::TensorToWrite w;
    w.name = t.name;
    w.dtype = DType::kF32;
    w.shape = t.shape;
    w.f32 = values + t.offset;
    tensors.push_back(std::move(w));
  }
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");
  return model::WriteSafetensors(path, tensors, meta);
}

Status WriteHfFolder(const std::string& dir, const model::BertConfig& config,
                     const std::vector<std::string>& labels, const ParamLayout& layout,
                     const float* values, const text::Tokenizer& tokenizer,
                     const std::string& tokenizer_source) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InvalidArgumentError("cannot create " + dir + ": " + ec.message());
  MG_RETURN_IF_ERROR(WriteParamsSafetensors(JoinPath(dir, "model.safetensors"), layout, values));
  return WriteTokenizerAndConfig(dir, config, labels, tokenizer, tokenizer_source);
}

namespace {

// Writes the Hugging Face tokenizer files not in `copied`, generated from
// `tokenizer`. A byte-level BPE tokenizer's folder gets no tokenizer.json
// here: those models come with their own.
Status WriteGeneratedTokenizerFiles(const std::string& dir, const text::Tokenizer& tokenizer,
                                    size_t model_max_length,
                                    const std::vector<std::string>& copied) {
  auto missing = [&](const char* name) {
    return std::find(copied.begin(), copied.end(), name) == copied.end();
  };
  if (missing("tokenizer.json")) {
    Result<std::string> contents = text::HfTokenizerFiles::TokenizerJson(tokenizer);
    if (contents.ok()) {
      MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, "tokenizer.json"), *contents));
    } else if (contents.status().code() != StatusCode::kUnimplemented) {
      return contents.status();
    }
  }
  if (missing("tokenizer_config.json")) {
    MG_RETURN_IF_ERROR(
        WriteFileAtomic(JoinPath(dir, "tokenizer_config.json"),
                        text::HfTokenizerFiles::TokenizerConfigJson(tokenizer, model_max_length)));
  }
  if (missing("special_tokens_map.json")) {
    MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, "special_tokens_map.json"),
                                       text::HfTokenizerFiles::SpecialTokensMapJson(tokenizer)));
  }
  return Status::Ok();
}

}  // namespace

Status WriteTokenizerAndConfig(const std::string& dir, const model::BertConfig& config,
                               const std::vector<std::string>& labels,
                               const text::Tokenizer& tokenizer,
                               const std::string& tokenizer_source) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> copies;  // from, to
  if (fs::is_directory(tokenizer_source)) {
    for (const char* name :
         {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
      const std::string from = JoinPath(tokenizer_source, name);
      if (FileExists(from)) copies.emplace_back(from, name);
    }
  } else if (tokenizer_source.ends_with(".json")) {
    copies.emplace_back(tokenizer_source, "tokenizer.json");
  } else {
    copies.emplace_back(tokenizer_source, "vocab.txt");
  }
  std::vector<std::string> copied;
  for (const auto& [from, to] : copies) {
    MG_ASSIGN_OR_RETURN(std::string contents, ReadFile(from));
    MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, to), contents));
    copied.push_back(to);
  }
  MG_RETURN_IF_ERROR(WriteGeneratedTokenizerFiles(
      dir, tokenizer, static_cast<size_t>(config.max_position_embeddings), copied));
  // config.json last: a folder with a config is complete.
  return WriteFileAtomic(JoinPath(dir, "config.json"), ConfigJson(config, labels));
}

}  // namespace mg::train
