#include "release/model_card.h"

#include <cctype>

namespace mg::release {
namespace {

struct KnownLicence {
  const char* spdx;
  const char* hub_id;  // the Hugging Face `license:` value
  const char* name;
  const char* summary;
};

constexpr KnownLicence kKnown[] = {
    {"Apache-2.0", "apache-2.0", "Apache License, Version 2.0",
     "A permissive licence with an express patent grant. You may use, modify and redistribute\n"
     "the model, provided you keep this notice, state significant changes and include the\n"
     "licence text."},
    {"MIT", "mit", "MIT License",
     "A permissive licence. You may use, copy, modify and redistribute the model, provided\n"
     "the copyright notice and the permission notice are kept in all copies."},
    {"BSD-3-Clause", "bsd-3-clause", "BSD 3-Clause \"New\" or \"Revised\" License",
     "A permissive licence. Redistribution must keep the copyright notice, the conditions\n"
     "and the disclaimer; the names of the copyright holders may not be used to endorse\n"
     "derived products without permission."},
    {"CC-BY-4.0", "cc-by-4.0", "Creative Commons Attribution 4.0 International",
     "You may share and adapt the model for any purpose, provided you give appropriate\n"
     "credit, link to the licence and indicate if changes were made."},
};

const KnownLicence* FindKnown(std::string_view spdx) {
  for (const KnownLicence& known : kKnown) {
    if (spdx == known.spdx) return &known;
  }
  return nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A YAML double-quoted scalar.
std::string YamlQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

bool IsValidSpdxId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+') {
      return false;
    }
  }
  return true;
}

std::string LicenseText(std::string_view spdx_id, std::string_view model_id,
                        std::string_view year) {
  const std::string url = "https://spdx.org/licenses/" + std::string(spdx_id) + ".html";
  std::string text = "The model \"" + std::string(model_id) + "\" (" + std::string(year) +
                     ") is released under the licence\n\n";
  const KnownLicence* known = FindKnown(spdx_id);
  if (known) {
    text += "    " + std::string(known->name) +
            " (SPDX-License-Identifier: " + std::string(spdx_id) + ")\n\n" + known->summary +
            "\n\n";
  } else {
    text += "    SPDX-License-Identifier: " + std::string(spdx_id) + "\n\n";
  }
  text += "The full, authoritative text of the licence is published at\n" + url +
          "\nand governs the use of every file in this folder. This notice is only a pointer\n"
          "to it and does not replace it.\n";
  return text;
}

std::string ModelCard(const ModelCardInfo& info) {
  const KnownLicence* known = FindKnown(info.spdx_license);
  std::string card = "---\n";
  if (known) {
    card += "license: " + std::string(known->hub_id) + "\n";
  } else {
    card +=
        "license: other\nlicense_name: " + Lower(info.spdx_license) + "\nlicense_link: LICENSE\n";
  }
  card += "pipeline_tag: " + info.pipeline_tag + "\n";
  if (!info.base_model.empty()) card += "base_model: " + YamlQuote(info.base_model) + "\n";
  card += "library_name: transformers\ntags:\n- modelgate\n- bert\n";
  card += "---\n\n# " + info.model_id + "\n\n";
  card += info.pipeline_tag == "text-classification"
              ? "A BERT-family text classifier"
              : "A BERT-family sentence encoder that turns text into embeddings";
  if (!info.base_model.empty()) card += ", fine-tuned from `" + info.base_model + "`";
  card += ".\n\n## Model\n\n";
  if (!info.architecture.empty()) card += "- architecture: `" + info.architecture + "`\n";
  if (info.hidden_size > 0) card += "- hidden size: " + std::to_string(info.hidden_size) + "\n";
  if (info.num_hidden_layers > 0) {
    card += "- layers: " + std::to_string(info.num_hidden_layers) + "\n";
  }
  if (!info.labels.empty()) {
    card += "- labels:";
    for (size_t i = 0; i < info.labels.size(); ++i) {
      card += (i ? ", `" : " `") + info.labels[i] + "`";
    }
    card += "\n";
  }
  card += "- licence: " + info.spdx_license + " (see `LICENSE`)\n\n";
  if (info.lora_adapter) {
    card +=
        "## Use\n\n`model.safetensors` holds the base's weights; the fine-tuning is a LoRA "
        "adapter\n"
        "(`adapter_config.json`, `adapter_model.safetensors`, with the trained head). Load both "
        "with\n"
        "Hugging Face `transformers` and `peft`\n"
        "(`PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained("
        "\"path/to/folder\"), \"path/to/folder\")`)\nor with modelgate, which merges the "
        "adapter on load:\n\n```\n";
  } else {
    card += "## Use\n\nThe folder loads with Hugging Face `transformers` (`" +
            std::string(info.pipeline_tag == "text-classification"
                            ? "AutoModelForSequenceClassification"
                            : "AutoModel") +
            ".from_pretrained(\"path/to/folder\")`,\nthe tokenizer with "
            "`AutoTokenizer.from_pretrained(\"path/to/folder\")`) and with modelgate:\n\n```\n";
  }
  card += info.pipeline_tag == "text-classification"
              ? "modelgate classify --model path/to/folder --input texts.jsonl\n"
              : "modelgate embed --model path/to/folder --input texts.jsonl\n";
  card += "```\n\n## Provenance\n\nReleased with modelgate on " + info.created_at +
          ". `manifest.json` lists every file with its size and SHA-256 and is signed\n"
          "(`manifest.sig`, Ed25519) by the vendor key with id `" +
          info.signer_key_id +
          "`. Check that nothing was changed, added or removed with\n\n```\n"
          "modelgate verify path/to/folder --pub VENDOR.pub\n```\n\n"
          "using the vendor's public key obtained from the vendor, not from this folder.\n";
  return card;
}

}  // namespace mg::release
