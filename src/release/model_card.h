// The human-facing files of an open release: LICENSE (a short notice naming
// the SPDX licence and where its full text lives) and README.md (a Hugging
// Face model card with YAML front matter). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mg::release {

struct ModelCardInfo {
  std::string model_id;
  std::string spdx_license;
  std::string pipeline_tag;  // "feature-extraction" or "text-classification"
  std::string base_model;    // empty when none
  std::string architecture;  // from config.json, may be empty
  long long hidden_size = 0;
  long long num_hidden_layers = 0;
  std::vector<std::string> labels;  // classification labels, in id order
  std::string signer_key_id;
  std::string created_at;
  bool lora_adapter = false;  // the folder carries a PEFT LoRA adapter
};

// True for a plausible SPDX licence id (letters, digits, '.', '-', '+').
bool IsValidSpdxId(std::string_view id);

std::string LicenseText(std::string_view spdx_id, std::string_view model_id, std::string_view year);
std::string ModelCard(const ModelCardInfo& info);

}  // namespace mg::release
