// The JSON files of a model folder: config.json, the shard index
// (model.safetensors.index.json) and the LoRA adapter_config.json, checked
// against a tiny config with an empty weights file.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz/fuzz_input.h"
#include "model/bert_config.h"
#include "model/checkpoint.h"
#include "model/lora_adapter.h"
#include "model/shard_index.h"

namespace {

const mg::model::Checkpoint& EmptyWeights() {
  static const auto* weights = new mg::model::Checkpoint(
      mg::model::Checkpoint::FromSafetensorsBuffer(
          std::make_shared<const std::string>(std::string("\x02\0\0\0\0\0\0\0{}", 10)), "empty")
          .value());
  return *weights;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(mg::fuzz::AsText(data, size));
  (void)mg::model::ParseShardIndex(text, "model.safetensors.index.json");
  auto config = mg::model::ParseBertConfig(text, "config.json");
  mg::model::BertConfig tiny;
  tiny.hidden_size = 8;
  tiny.num_hidden_layers = 2;
  tiny.labels = {"a", "b"};
  (void)mg::model::ParseLoraAdapter(text, EmptyWeights(), config.ok() ? *config : tiny, "adapter");
  return 0;
}
