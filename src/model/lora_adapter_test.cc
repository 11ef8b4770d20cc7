#include "model/lora_adapter.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace mg::model {
namespace {

// An adapter checkpoint with no tensors: 8-byte header length, then "{}".
Checkpoint EmptyWeights() {
  auto bytes = std::make_shared<const std::string>(std::string("\x02\0\0\0\0\0\0\0{}", 10));
  Result<Checkpoint> weights = Checkpoint::FromSafetensorsBuffer(bytes, "adapter.safetensors");
  EXPECT_TRUE(weights.ok()) << weights.status().ToString();
  return std::move(weights).value();
}

Status ParseStatus(const std::string& config_json) {
  BertConfig config;
  config.hidden_size = 8;
  config.num_hidden_layers = 1;
  return ParseLoraAdapter(config_json, EmptyWeights(), config, "adapter").status();
}

TEST(LoraAdapterTest, RefusesDeeplyNestedConfig) {
  const int depth = 1 << 20;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  const Status status = ParseStatus(R"({"peft_type": )" + deep + "}");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("adapter_config.json"), std::string::npos);
  EXPECT_NE(status.message().find("nests deeper than"), std::string::npos) << status.message();
}

TEST(LoraAdapterTest, ErrorsDescribeValuesWithoutEchoingDocuments) {
  const Status status =
      ParseStatus(R"({"peft_type": "LORA", "r": 2, "target_modules": [{"a": [1, 2, 3]}]})");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("unknown target module an object"), std::string::npos)
      << status.message();
  const Status long_string = ParseStatus(R"({"peft_type": ")" + std::string(10000, 'x') + R"("})");
  ASSERT_FALSE(long_string.ok());
  EXPECT_LT(long_string.message().size(), 300u);
}

}  // namespace
}  // namespace mg::model
