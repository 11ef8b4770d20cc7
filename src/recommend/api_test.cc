// The /v1/items and /v1/recommend handlers: replies and validation.
#include "recommend/api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "recommend/test_vectors.h"

namespace mg::recommend {
namespace {

using nlohmann::json;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = std::filesystem::temp_directory_path().string() + "/catalogue_XXXXXX";
    MG_CHECK(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern + "/index";
    CatalogueOptions options;
    options.dim = 1024;
    catalogue_ = std::move(Catalogue::Create(dir_, options)).value();
    ApiLimits limits;
    limits.max_items = 5;
    api_ = std::make_unique<RecommendApi>(catalogue_.get(), &embedder_, limits);
    auto added = api_->AddItems(json::parse(R"({"items":[
      {"id":"apple","text":"red apple fruit","tags":["fruit"]},
      {"id":"pear","text":"green pear fruit","tags":["fruit"]},
      {"id":"hammer","text":"steel hammer tool","tags":["tool"]},
      {"id":"saw","text":"steel saw tool","tags":["tool"]}]})"));
    MG_CHECK(added.ok());
  }

  std::string Error(const Result<json>& result) {
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
    return result.status().message();
  }

  std::string dir_;
  testing::BagOfWordsEmbedder embedder_{1024};
  std::unique_ptr<Catalogue> catalogue_;
  std::unique_ptr<RecommendApi> api_;
};

TEST_F(ApiTest, AddReplaceAndRecommend) {
  auto reply = api_->AddItems(json::parse(
      R"({"items":[{"id":"saw","text":"steel saw tool"},{"id":"plum","text":"plum fruit"}]})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, json::parse(R"({"added":1,"replaced":1,"items":5})"));
  // Saved: a fresh open sees the same items.
  EXPECT_EQ((*Catalogue::Open(dir_))->size(), 5u);

  reply = api_->Recommend(json::parse(R"({"query":"steel tool","k":2})"));
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->size(), 2u);
  EXPECT_EQ(std::set<std::string>({(*reply)[0]["id"], (*reply)[1]["id"]}),
            std::set<std::string>({"hammer", "saw"}));
  EXPECT_GT((*reply)[0]["score"].get<double>(), 0.5);

  // History by id and by text; seen ids are left out.
  reply = api_->Recommend(json::parse(R"({"history":[{"id":"apple"},"green fruit"],"k":3})"));
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->size(), 3u);
  EXPECT_EQ((*reply)[0]["id"], "pear");
  for (const json& item : *reply) EXPECT_NE(item["id"], "apple");
  reply =
      api_->Recommend(json::parse(R"({"history":[{"id":"apple"}],"k":1,"exclude_seen":false})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ((*reply)[0]["id"], "apple");

  reply = api_->Recommend(
      json::parse(R"({"query":"steel tool","k":10,"tags":["fruit"],"exclude":["pear"]})"));
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->size(), 1u);  // plum has no tags
  EXPECT_EQ((*reply)[0]["id"], "apple");

  reply = api_->DeleteItems(json::parse(R"({"ids":["apple","nothing"]})"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, json::parse(R"({"deleted":1,"items":4})"));
  EXPECT_EQ((*Catalogue::Open(dir_))->size(), 4u);
  EXPECT_EQ(api_->Recommend(json::parse(R"({"history":[{"id":"apple"}]})")).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ApiTest, ItemsValidation) {
  EXPECT_NE(Error(api_->AddItems(json::parse("[]"))).find("object"), std::string::npos);
  EXPECT_NE(Error(api_->AddItems(json::parse("{}"))).find("items"), std::string::npos);
  EXPECT_NE(Error(api_->AddItems(json::parse(R"({"items":[]})"))).find("empty"), std::string::npos);
  EXPECT_NE(Error(api_->AddItems(json::parse(R"({"items":[{"text":"a"}]})"))).find("id is missing"),
            std::string::npos);
  EXPECT_NE(Error(api_->AddItems(json::parse(R"({"items":[{"id":"a"}]})"))).find("text is missing"),
            std::string::npos);
  EXPECT_NE(Error(api_->AddItems(json::parse(R"({"items":[{"id":"","text":"a"}]})"))).find("empty"),
            std::string::npos);
  EXPECT_NE(Error(api_->AddItems(json::parse(R"({"items":[{"id":1,"text":"a"}]})"))).find("string"),
            std::string::npos);
  EXPECT_NE(Error(api_->AddItems(
                      json::parse(R"({"items":[{"id":"a","text":"x"},{"id":"a","text":"y"}]})")))
                .find("twice"),
            std::string::npos);
  EXPECT_NE(
      Error(api_->AddItems(json::parse(R"({"items":[{"id":"a","text":"x","tags":"fruit"}]})")))
          .find("tags"),
      std::string::npos);
  json many = {{"items", json::array()}};
  for (int i = 0; i < 6; ++i) many["items"].push_back({{"id", std::to_string(i)}, {"text", "x"}});
  EXPECT_NE(Error(api_->AddItems(many)).find("more than 5"), std::string::npos);
  json bad_utf8 = {{"items", {{{"id", std::string("a\xff")}, {"text", "x"}}}}};
  EXPECT_NE(Error(api_->AddItems(bad_utf8)).find("UTF-8"), std::string::npos);
  EXPECT_EQ(catalogue_->size(), 4u);  // nothing was added
}

TEST_F(ApiTest, RecommendValidation) {
  EXPECT_NE(Error(api_->Recommend(json::parse(R"({"k":3})"))).find("exactly one"),
            std::string::npos);
  EXPECT_NE(
      Error(api_->Recommend(json::parse(R"({"query":"a","history":["b"]})"))).find("exactly one"),
      std::string::npos);
  EXPECT_NE(Error(api_->Recommend(json::parse(R"({"query":""})"))).find("empty"),
            std::string::npos);
  EXPECT_NE(Error(api_->Recommend(json::parse(R"({"history":[]})"))).find("non-empty"),
            std::string::npos);
  EXPECT_NE(Error(api_->Recommend(json::parse(R"({"history":[3]})"))).find("history[0]"),
            std::string::npos);
  EXPECT_NE(Error(api_->Recommend(json::parse(R"({"history":[{}]})"))).find("history[0]"),
            std::string::npos);
  for (const char* k : {"0", "1001", "-1", "2.5", "\"10\""}) {
    EXPECT_NE(Error(api_->Recommend(json::parse(std::string(R"({"query":"a","k":)") + k + "}")))
                  .find("from 1 to 1000"),
              std::string::npos)
        << k;
  }
  EXPECT_TRUE(api_->Recommend(json::parse(R"({"query":"tool","k":1000})")).ok());
  EXPECT_NE(Error(api_->Recommend(json::parse(R"({"query":"a","exclude":[1]})"))).find("exclude"),
            std::string::npos);
  EXPECT_NE(
      Error(api_->Recommend(json::parse(R"({"query":"a","exclude_seen":1})"))).find("exclude_seen"),
      std::string::npos);
  json bad_utf8 = {{"query", std::string("\xc3")}};
  EXPECT_NE(Error(api_->Recommend(bad_utf8)).find("UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace mg::recommend
