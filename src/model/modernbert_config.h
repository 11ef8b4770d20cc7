// ModernBERT's config.json settings (Hugging Face `modernbert`): read into
// BertConfig::modernbert, with every value the encoder does not implement
// refused by name. Used by ParseBertConfig only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "model/bert_config.h"

namespace mg::model {

// Reads norm_eps, the bias switches, the rotary thetas, the attention
// pattern (layer_types or global_attn_every_n_layers, local_attention) and the
// classification head's pooling and activation from `root` into `config`,
// whose num_hidden_layers is already set. `name` appears in errors.
Status ParseModernBertSettings(const nlohmann::json& root, const std::string& name,
                               BertConfig* config);

}  // namespace mg::model
