#include "train/lora_folder.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "model/safetensors_writer.h"
#include "train/hf_folder.h"

namespace mg::train {

namespace fs = std::filesystem;

std::string AdapterConfigJson(const ParamLayout& layout, const std::string& base_model) {
  nlohmann::json c;
  c["peft_type"] = "LORA";
  c["task_type"] = "SEQ_CLS";
  c["r"] = layout.lora_rank;
  c["lora_alpha"] = layout.lora_alpha;
  c["lora_dropout"] = 0.0;
  const model::Family& family = model::FamilyOf(layout.family);
  // ModernBERT's query, key and value are one fused module.
  if (layout.family == model::FamilyId::kModernBert) {
    c["target_modules"] = {"Wqkv"};
  } else {
    c["target_modules"] = {family.lora_targets[0], family.lora_targets[2]};
  }
  c["modules_to_save"] = family.head_modules;
  c["bias"] = "none";
  c["fan_in_fan_out"] = false;
  c["inference_mode"] = true;
  c["init_lora_weights"] = true;
  c["use_rslora"] = false;
  c["use_dora"] = false;
  c["layers_to_transform"] = nullptr;
  c["rank_pattern"] = nlohmann::json::object();
  c["alpha_pattern"] = nlohmann::json::object();
  c["base_model_name_or_path"] = base_model.empty() ? nlohmann::json() : nlohmann::json(base_model);
  return c.dump(2) + "\n";
}

Status WriteLoraFolder(const std::string& dir, const std::string& base_dir,
                       const model::BertConfig& config, const std::vector<std::string>& labels,
                       const ParamLayout& layout, const float* values,
                       const text::Tokenizer& tokenizer, const std::string& tokenizer_source) {
  if (!layout.has_lora()) return InvalidArgumentError("WriteLoraFolder needs a LoRA layout");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgumentError("cannot create " + dir + ": " + ec.message());
  // The frozen weights: the base's own file, untouched.
  const std::string base_weights = JoinPath(base_dir, "model.safetensors");
  const std::string weights = JoinPath(dir, "model.safetensors");
  const std::string partial = JoinPath(dir, ".model.safetensors.partial");
  fs::copy_file(base_weights, partial, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(partial, weights, ec);
  if (ec) return IoError("cannot copy " + base_weights + " to " + weights + ": " + ec.message());

  std::vector<model::TensorToWrite> tensors;
  for (const ParamTensor& t : layout.tensors) {
    if (!t.trainable) continue;
    model::TensorToWrite w;
    w.name = kPeftPrefix + t.name;
    w.dtype = DType::kF32;
    w.shape = t.shape;
    w.f32 = values + t.offset;
    tensors.push_back(std::move(w));
  }
  MG_RETURN_IF_ERROR(model::WriteSafetensors(JoinPath(dir, "adapter_model.safetensors"), tensors,
                                             {{"format", "pt"}}));
  MG_RETURN_IF_ERROR(
      WriteFileAtomic(JoinPath(dir, "adapter_config.json"), AdapterConfigJson(layout, base_dir)));
  return WriteTokenizerAndConfig(dir, config, labels, tokenizer, tokenizer_source);
}

}  // namespace mg::train
