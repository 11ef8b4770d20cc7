// Family: names map both ways, configs of each family parse into the same
// fields, RoBERTa's positions follow its padding rule, and ModernBERT's own
// settings are read (the published ModernBERT-large config.json) or refused.
#include "model/family.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "model/bert_config.h"

namespace mg::model {
namespace {

TEST(FamilyTest, HuggingFaceNamesOfEachFamily) {
  const std::string query = "encoder.layer.3.attention.self.query.weight";
  EXPECT_EQ(BertFamily().HfName(query), "bert.encoder.layer.3.attention.self.query.weight");
  EXPECT_EQ(RobertaFamily().HfName(query), "roberta.encoder.layer.3.attention.self.query.weight");
  EXPECT_EQ(DistilBertFamily().HfName(query),
            "distilbert.transformer.layer.3.attention.q_lin.weight");
  EXPECT_EQ(DistilBertFamily().HfName("encoder.layer.0.output.LayerNorm.bias"),
            "distilbert.transformer.layer.0.output_layer_norm.bias");
  EXPECT_EQ(DistilBertFamily().HfName("encoder.layer.0.attention.output.LayerNorm.weight"),
            "distilbert.transformer.layer.0.sa_layer_norm.weight");
  EXPECT_EQ(DistilBertFamily().HfName("encoder.layer.1.output.dense.weight"),
            "distilbert.transformer.layer.1.ffn.lin2.weight");
  EXPECT_EQ(BertFamily().HfName("pooler.dense.weight"), "bert.pooler.dense.weight");
  EXPECT_EQ(RobertaFamily().HfName("pooler.dense.weight"), "classifier.dense.weight");
  EXPECT_EQ(RobertaFamily().HfName("classifier.bias"), "classifier.out_proj.bias");
  EXPECT_EQ(DistilBertFamily().HfName("pooler.dense.bias"), "pre_classifier.bias");
  EXPECT_EQ(DistilBertFamily().HfName("embeddings.LayerNorm.weight"),
            "distilbert.embeddings.LayerNorm.weight");
}

TEST(FamilyTest, CanonicalNamesRoundTrip) {
  for (const Family* family : {&BertFamily(), &DistilBertFamily(), &RobertaFamily()}) {
    for (const char* canonical :
         {"embeddings.word_embeddings.weight", "encoder.layer.11.attention.self.value.bias",
          "encoder.layer.2.attention.output.dense.weight",
          "encoder.layer.0.intermediate.dense.bias",
          "encoder.layer.0.attention.self.query.lora_A.weight", "pooler.dense.weight",
          "classifier.bias"}) {
      const std::string hf = family->HfName(canonical);
      EXPECT_EQ(family->CanonicalName(hf).value_or("?"), canonical) << hf;
    }
  }
  EXPECT_EQ(DistilBertFamily().CanonicalName("transformer.layer.0.ffn.lin1.weight").value_or("?"),
            "encoder.layer.0.intermediate.dense.weight");
  EXPECT_FALSE(RobertaFamily().CanonicalName("classifier.weight").has_value());
  EXPECT_FALSE(DistilBertFamily().CanonicalName("transformer.layer.x.ffn.lin1.weight").has_value());
  EXPECT_TRUE(DistilBertFamily().IsHeadTensor("pre_classifier.weight"));
  EXPECT_TRUE(RobertaFamily().IsHeadTensor("roberta.pooler.dense.weight"));
  EXPECT_FALSE(RobertaFamily().IsHeadTensor("roberta.encoder.layer.0.output.dense.weight"));
  EXPECT_EQ(DistilBertFamily().LoraTargetIndex("v_lin"), 2);
  EXPECT_EQ(DistilBertFamily().LoraTargetIndex("query"), -1);
  EXPECT_EQ(BertFamily().LoraTargetIndex("bert.encoder.layer.0.attention.self.key"), 1);
}

// The matrices a release in reduced precision stores quantised: every linear
// layer inside the encoder layers, in each family's spelling, never a norm, a
// bias or the head.
TEST(FamilyTest, LayerLinearWeightsAndWordEmbeddings) {
  const std::string canonical[] = {"encoder.layer.3.attention.self.query.weight",
                                   "encoder.layer.3.attention.self.key.weight",
                                   "encoder.layer.3.attention.self.value.weight",
                                   "encoder.layer.3.attention.output.dense.weight",
                                   "encoder.layer.3.intermediate.dense.weight",
                                   "encoder.layer.3.output.dense.weight"};
  for (const Family* family : {&BertFamily(), &DistilBertFamily(), &RobertaFamily()}) {
    for (const std::string& name : canonical) {
      const std::string hf = family->HfName(name);
      EXPECT_TRUE(family->IsLayerLinearWeight(hf)) << hf;
      EXPECT_TRUE(family->IsLayerLinearWeight(hf.substr(family->prefix.size()))) << hf;
      EXPECT_FALSE(family->IsLayerLinearWeight(hf.substr(0, hf.size() - 6) + "bias")) << hf;
    }
    for (const char* other :
         {"encoder.layer.3.output.LayerNorm.weight",
          "encoder.layer.3.attention.output.LayerNorm.weight", "pooler.dense.weight",
          "classifier.weight", "embeddings.position_embeddings.weight"}) {
      EXPECT_FALSE(family->IsLayerLinearWeight(family->HfName(other))) << other;
    }
    EXPECT_TRUE(family->IsWordEmbeddings(family->HfName("embeddings.word_embeddings.weight")));
    EXPECT_FALSE(family->IsWordEmbeddings(family->HfName("embeddings.position_embeddings.weight")));
  }
  const Family& modern = ModernBertFamily();
  for (const char* name : {"model.layers.0.attn.Wqkv.weight", "model.layers.21.attn.Wo.weight",
                           "layers.1.mlp.Wi.weight", "model.layers.1.mlp.Wo.weight"}) {
    EXPECT_TRUE(modern.IsLayerLinearWeight(name)) << name;
  }
  for (const char* name : {"model.layers.1.mlp_norm.weight", "model.layers.1.attn_norm.weight",
                           "model.layers.1.attn.Wqkv.bias", "head.dense.weight",
                           "classifier.weight", "model.final_norm.weight"}) {
    EXPECT_FALSE(modern.IsLayerLinearWeight(name)) << name;
  }
  EXPECT_TRUE(modern.IsWordEmbeddings("model.embeddings.tok_embeddings.weight"));
  EXPECT_TRUE(modern.IsWordEmbeddings("embeddings.tok_embeddings.weight"));
  EXPECT_FALSE(modern.IsWordEmbeddings("model.embeddings.norm.weight"));
}

TEST(FamilyTest, DistilBertConfigKeys) {
  auto config = ParseBertConfig(
      R"({"model_type":"distilbert","vocab_size":100,"dim":64,"n_layers":3,"n_heads":4,)"
      R"("hidden_dim":256,"max_position_embeddings":128,"activation":"gelu",)"
      R"("architectures":["DistilBertForSequenceClassification"],"id2label":{"0":"a","1":"b"}})",
      "c");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->family_id, FamilyId::kDistilBert);
  EXPECT_EQ(config->hidden_size, 64);
  EXPECT_EQ(config->num_hidden_layers, 3);
  EXPECT_EQ(config->num_attention_heads, 4);
  EXPECT_EQ(config->intermediate_size, 256);
  EXPECT_EQ(config->type_vocab_size, 0);
  EXPECT_EQ(config->max_tokens(), 128);
  EXPECT_TRUE(config->is_sequence_classifier());
  auto relu = ParseBertConfig(
      R"({"model_type":"distilbert","vocab_size":100,"dim":64,"n_layers":3,"n_heads":4,)"
      R"("hidden_dim":256,"activation":"relu"})",
      "c");
  EXPECT_FALSE(relu.ok());
}

TEST(FamilyTest, RobertaConfigAndPositions) {
  auto config = ParseBertConfig(
      R"({"model_type":"xlm-roberta","vocab_size":100,"hidden_size":64,"num_hidden_layers":2,)"
      R"("num_attention_heads":4,"intermediate_size":128,"max_position_embeddings":514,)"
      R"("type_vocab_size":1,"architectures":["XLMRobertaModel"]})",
      "c");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->family_id, FamilyId::kRoberta);
  EXPECT_EQ(config->pad_token_id, 1);
  EXPECT_EQ(config->max_tokens(), 512);
  const int32_t ids[] = {0, 5, 1, 7, 2};
  int32_t positions[5];
  PositionIds(RobertaFamily(), ids, 5, 1, positions);
  EXPECT_EQ(std::vector<int32_t>(positions, positions + 5), (std::vector<int32_t>{2, 3, 1, 4, 5}));
  PositionIds(BertFamily(), ids, 5, 0, positions);
  EXPECT_EQ(std::vector<int32_t>(positions, positions + 5), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(ParseBertConfig(R"({"model_type":"roberta","vocab_size":100,"hidden_size":64,)"
                               R"("num_hidden_layers":2,"num_attention_heads":4,)"
                               R"("intermediate_size":128,"architectures":["BertModel"]})",
                               "c")
                   .ok());
  auto unknown = ParseBertConfig(R"({"model_type":"gpt2","vocab_size":1})", "c");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("distilbert"), std::string::npos);
}

TEST(FamilyTest, ModernBertLargeConfig) {
  auto text = ReadFile("tests/data/vocab/ModernBERT-large/config.json");
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto config = ParseBertConfig(*text, "c");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->family_id, FamilyId::kModernBert);
  EXPECT_TRUE(config->family().pre_norm);
  EXPECT_EQ(config->hidden_size, 1024);
  EXPECT_EQ(config->num_hidden_layers, 28);
  EXPECT_EQ(config->intermediate_size, 2624);
  EXPECT_EQ(config->type_vocab_size, 0);
  EXPECT_EQ(config->pad_token_id, 50283);
  EXPECT_EQ(config->max_tokens(), 8192);
  EXPECT_FLOAT_EQ(config->layer_norm_eps, 1e-5f);
  const ModernBertSettings& s = config->modernbert;
  EXPECT_FALSE(s.norm_bias || s.attention_bias || s.mlp_bias || s.classifier_bias);
  EXPECT_EQ(s.global_rope_theta, 160000.0);
  EXPECT_EQ(s.local_rope_theta, 10000.0);
  EXPECT_EQ(s.local_attention, 128);
  ASSERT_EQ(s.sliding_layers.size(), 28u);
  for (size_t layer = 0; layer < 28; ++layer) EXPECT_EQ(s.sliding_layers[layer], layer % 3 != 0);
  EXPECT_TRUE(s.classifier_mean_pooling);
  EXPECT_EQ(s.classifier_activation, ClassifierActivation::kGelu);

  EXPECT_TRUE(ModernBertFamily().IsHeadTensor("head.norm.weight"));
  EXPECT_TRUE(ModernBertFamily().IsHeadTensor("classifier.bias"));
  EXPECT_FALSE(ModernBertFamily().IsHeadTensor("model.layers.0.mlp.Wi.weight"));
  EXPECT_EQ(ModernBertFamily().LoraTargetIndex("Wqkv"), -1);
}

TEST(FamilyTest, ModernBertRefusesWhatItDoesNotImplement) {
  const std::string base =
      R"({"model_type":"modernbert","vocab_size":100,"hidden_size":64,"num_hidden_layers":3,)"
      R"("num_attention_heads":4,"intermediate_size":96,)";
  for (const char* setting :
       {R"("hidden_activation":"silu")", R"("classifier_pooling":"max")",
        R"("classifier_activation":"sigmoid")", R"("layer_types":["full_attention"])",
        R"("layer_types":["full_attention","sliding_attention","chunked_attention"])",
        R"("rope_parameters":{"full_attention":{"rope_type":"yarn","rope_theta":1.0}})",
        R"("norm_bias":"no")", R"("local_rope_theta":-1)"}) {
    auto config = ParseBertConfig(base + setting + "}", "c");
    EXPECT_FALSE(config.ok()) << setting;
  }
  auto types = ParseBertConfig(
      base + R"("layer_types":["sliding_attention","full_attention","sliding_attention"]})", "c");
  ASSERT_TRUE(types.ok()) << types.status().message();
  EXPECT_EQ(types->modernbert.sliding_layers, (std::vector<bool>{true, false, true}));
}

}  // namespace
}  // namespace mg::model
