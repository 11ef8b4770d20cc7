// Writing a classifier trained with a LoRA adapter as a Hugging Face + PEFT
// folder:
//
//   model.safetensors          the base's file, copied byte for byte (frozen)
//   adapter_model.safetensors  lora_A/lora_B of every layer's query and value
//                              projections and the trained head (pooler,
//                              classifier) under PEFT's names, e.g.
//                              base_model.model.bert.encoder.layer.0.attention.
//                              self.query.lora_A.weight, base_model.model.
//                              classifier.weight
//   adapter_config.json        PEFT LoraConfig: peft_type LORA, task_type
//                              SEQ_CLS, r, lora_alpha, target_modules [query,
//                              value], modules_to_save [classifier, pooler]
//   config.json, tokenizer files as WriteHfFolder writes them
//
// so that transformers + PEFT (PeftModel.from_pretrained) and modelgate's
// loader (model/lora_adapter.h) read it. Every file is written atomically;
// config.json last. Stateless; thread-safe for distinct folders.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "model/bert_config.h"
#include "text/tokenizer.h"
#include "train/params.h"

namespace mg::train {

// The prefix PEFT gives the names of a wrapped model's tensors.
inline constexpr char kPeftPrefix[] = "base_model.model.";

// adapter_config.json text for a LoRA layout; `base_model` is recorded as
// base_model_name_or_path (null when empty).
std::string AdapterConfigJson(const ParamLayout& layout, const std::string& base_model);

// Writes the folder described above into `dir` (created if missing).
// `base_dir` must hold the model.safetensors the frozen weights came from.
Status WriteLoraFolder(const std::string& dir, const std::string& base_dir,
                       const model::BertConfig& config, const std::vector<std::string>& labels,
                       const ParamLayout& layout, const float* values,
                       const text::Tokenizer& tokenizer, const std::string& tokenizer_source);

}  // namespace mg::train
