#include "release/model_card.h"

#include <gtest/gtest.h>

namespace mg::release {
namespace {

TEST(ModelCardTest, ClassifierCardHasFrontMatterAndLabels) {
  ModelCardInfo info;
  info.model_id = "intent-v3";
  info.spdx_license = "MIT";
  info.pipeline_tag = "text-classification";
  info.base_model = "bert-base-uncased";
  info.architecture = "BertForSequenceClassification";
  info.labels = {"billing", "refund"};
  info.signer_key_id = "0123456789abcdef";
  info.created_at = "2026-11-28T00:00:00Z";
  const std::string card = ModelCard(info);
  EXPECT_EQ(card.rfind("---\nlicense: mit\npipeline_tag: text-classification\n"
                       "base_model: \"bert-base-uncased\"\n",
                       0),
            0u)
      << card;
  EXPECT_NE(card.find("`billing`, `refund`"), std::string::npos);
  EXPECT_NE(card.find("0123456789abcdef"), std::string::npos);
  EXPECT_NE(card.find("modelgate classify"), std::string::npos);
  EXPECT_NE(card.find("AutoModelForSequenceClassification.from_pretrained"), std::string::npos)
      << card;
}

TEST(ModelCardTest, EncoderCardLoadsWithAutoModel) {
  ModelCardInfo info;
  info.model_id = "encoder";
  info.spdx_license = "MIT";
  info.pipeline_tag = "feature-extraction";
  const std::string card = ModelCard(info);
  EXPECT_NE(card.find("`AutoModel.from_pretrained"), std::string::npos) << card;
  EXPECT_EQ(card.find("ForSequenceClassification"), std::string::npos) << card;
}

TEST(ModelCardTest, UnknownLicenceIsOtherWithALink) {
  ModelCardInfo info;
  info.model_id = "m";
  info.spdx_license = "MPL-2.0";
  info.pipeline_tag = "feature-extraction";
  const std::string card = ModelCard(info);
  EXPECT_NE(card.find("license: other\nlicense_name: mpl-2.0\nlicense_link: LICENSE\n"),
            std::string::npos);
  const std::string text = LicenseText("MPL-2.0", "m", "2026");
  EXPECT_NE(text.find("SPDX-License-Identifier: MPL-2.0"), std::string::npos);
  EXPECT_NE(text.find("https://spdx.org/licenses/MPL-2.0.html"), std::string::npos);
}

TEST(ModelCardTest, SpdxIds) {
  EXPECT_TRUE(IsValidSpdxId("Apache-2.0"));
  EXPECT_TRUE(IsValidSpdxId("GPL-2.0+"));
  EXPECT_FALSE(IsValidSpdxId(""));
  EXPECT_FALSE(IsValidSpdxId("MIT OR Apache"));
  EXPECT_FALSE(IsValidSpdxId("../x"));
}

}  // namespace
}  // namespace mg::release
