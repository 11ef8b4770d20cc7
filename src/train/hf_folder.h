// Writing a trained classifier as a Hugging Face model folder: config.json
// (the family's <Class>ForSequenceClassification with its own config keys,
// id2label/label2id, problem_type),
// model.safetensors (Hugging Face tensor names) and the tokenizer files, so
// that `modelgate classify` and transformers' from_pretrained read it.
//
// Every file is written atomically (temporary file + rename). Stateless;
// thread-safe for distinct folders.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/bert_config.h"
#include "text/tokenizer.h"
#include "train/params.h"

namespace mg::train {

// "single_label_classification", "multi_label_classification" or "regression".
const char* ProblemTypeName(model::ProblemType problem);
Result<model::ProblemType> ParseProblemType(const std::string& name);

// config.json text for `config` with `labels` (id2label order).
std::string ConfigJson(const model::BertConfig& config, const std::vector<std::string>& labels);

// The parameters under their Hugging Face names, as float32 safetensors.
Status WriteParamsSafetensors(const std::string& path, const ParamLayout& layout,
                              const float* values,
                              const std::map<std::string, std::string>& metadata = {});

// Writes config.json, model.safetensors and tokenizer files (copied from
// `tokenizer_source`: a model folder, tokenizer.json or vocab.txt; the
// Hugging Face files it lacks generated from `tokenizer`) into `dir`
// (created if missing).
Status WriteHfFolder(const std::string& dir, const model::BertConfig& config,
                     const std::vector<std::string>& labels, const ParamLayout& layout,
                     const float* values, const text::Tokenizer& tokenizer,
                     const std::string& tokenizer_source);

// The same without the weights: tokenizer files, then config.json (last, so
// that a folder with a config is complete).
Status WriteTokenizerAndConfig(const std::string& dir, const model::BertConfig& config,
                               const std::vector<std::string>& labels,
                               const text::Tokenizer& tokenizer,
                               const std::string& tokenizer_source);

}  // namespace mg::train
