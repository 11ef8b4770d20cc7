#include "serve/schema.h"

#include <gtest/gtest.h>

namespace mg::serve {
namespace {

int StatusOf(const std::optional<ApiError>& error) { return error ? error->status : 200; }

TEST(SchemaTest, EmbedAcceptsStringOrList) {
  EmbedRequest single;
  EXPECT_EQ(StatusOf(ParseEmbedRequest(R"({"inputs":"hi"})", {}, &single)), 200);
  EXPECT_FALSE(single.inputs.batched);
  EXPECT_TRUE(single.normalize);
  EXPECT_FALSE(single.truncate);
  EmbedRequest list;
  EXPECT_EQ(StatusOf(ParseEmbedRequest(
                R"({"inputs":["a","b"],"normalize":false,"truncate":true,"x":1})", {}, &list)),
            200);
  EXPECT_EQ(list.inputs.texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(list.inputs.batched);
  EXPECT_FALSE(list.normalize);
  EXPECT_TRUE(list.truncate);
}

TEST(SchemaTest, BadBodies) {
  EmbedRequest r;
  EXPECT_EQ(StatusOf(ParseEmbedRequest("{\"inputs\":", {}, &r)), 400);
  EXPECT_EQ(StatusOf(ParseEmbedRequest("{\"inputs\":\"\xff\xfe\"}", {}, &r)), 400);
  EmbedRequest array;
  EXPECT_EQ(StatusOf(ParseEmbedRequest("[1]", {}, &array)), 422);
  for (const char* body :
       {R"({})", R"({"inputs":5})", R"({"inputs":[]})", R"({"inputs":""})", R"({"inputs":["a",3]})",
        R"({"inputs":[[1,2]]})", R"({"inputs":"a","normalize":"yes"})"}) {
    EmbedRequest request;
    EXPECT_EQ(StatusOf(ParseEmbedRequest(body, {}, &request)), 422) << body;
  }
  SchemaLimits limits;
  limits.max_inputs = 2;
  EmbedRequest many;
  auto error = ParseEmbedRequest(R"({"inputs":["a","b","c"]})", limits, &many);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 422);
  EXPECT_NE(error->message.find("maximum allowed batch size 2"), std::string::npos);
}

TEST(SchemaTest, PredictForms) {
  PredictRequest single;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":"t","raw_scores":true})", {}, &single)), 200);
  EXPECT_FALSE(single.inputs.batched);
  EXPECT_TRUE(single.raw_scores);
  PredictRequest pair;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":["q","a"]})", {}, &pair)), 200);
  ASSERT_EQ(pair.inputs.texts.size(), 1u);
  EXPECT_EQ(pair.inputs.pairs[0], std::optional<std::string>("a"));
  PredictRequest batch;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":[["x"],["y","z"],"w"]})", {}, &batch)), 200);
  EXPECT_TRUE(batch.inputs.batched);
  EXPECT_EQ(batch.inputs.texts, (std::vector<std::string>{"x", "y", "w"}));
  EXPECT_FALSE(batch.inputs.pairs[0]);
  EXPECT_EQ(batch.inputs.pairs[1], std::optional<std::string>("z"));
  PredictRequest bad;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":[["a","b","c"]]})", {}, &bad)), 422);
}

TEST(SchemaTest, OpenAi) {
  OpenAiEmbedRequest request;
  EXPECT_EQ(StatusOf(ParseOpenAiEmbedRequest(
                R"({"input":["a"],"model":"m","encoding_format":"base64"})", {}, &request)),
            200);
  EXPECT_EQ(request.model, "m");
  EXPECT_TRUE(request.base64);
  OpenAiEmbedRequest tokens;
  EXPECT_EQ(StatusOf(ParseOpenAiEmbedRequest(R"({"input":[[1,2,3]]})", {}, &tokens)), 422);
  OpenAiEmbedRequest format;
  EXPECT_EQ(
      StatusOf(ParseOpenAiEmbedRequest(R"({"input":"a","encoding_format":"x"})", {}, &format)),
      422);
}

TEST(SchemaTest, RerankTakesAQueryAndTexts) {
  RerankRequest request;
  EXPECT_EQ(StatusOf(ParseRerankRequest(
                R"({"query":"q","texts":["a","b"],"raw_scores":true,"return_text":true,"x":1})", {},
                &request)),
            200);
  EXPECT_EQ(request.query, "q");
  EXPECT_EQ(request.texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(request.raw_scores);
  EXPECT_TRUE(request.return_text);
  EXPECT_FALSE(request.truncate);
  RerankRequest defaults;
  EXPECT_EQ(StatusOf(ParseRerankRequest(R"({"query":"q","texts":["a"]})", {}, &defaults)), 200);
  EXPECT_FALSE(defaults.raw_scores || defaults.return_text || defaults.truncate);

  EXPECT_EQ(StatusOf(ParseRerankRequest("{\"query\":", {}, &request)), 400);
  for (const char* body :
       {R"({"texts":["a"]})", R"({"query":"","texts":["a"]})", R"({"query":1,"texts":["a"]})",
        R"({"query":"q"})", R"({"query":"q","texts":[]})", R"({"query":"q","texts":"a"})",
        R"({"query":"q","texts":["a",""]})", R"({"query":"q","texts":["a",{"text":"b"}]})",
        R"({"query":"q","texts":["a"],"raw_scores":"no"})"}) {
    RerankRequest bad;
    EXPECT_EQ(StatusOf(ParseRerankRequest(body, {}, &bad)), 422) << body;
  }
  SchemaLimits limits;
  limits.max_inputs = 2;
  RerankRequest many;
  const auto error = ParseRerankRequest(R"({"query":"q","texts":["a","b","c"]})", limits, &many);
  ASSERT_EQ(StatusOf(error), 422);
  EXPECT_NE(error->message.find("batch size 3 > maximum allowed batch size 2"), std::string::npos);
}

TEST(SchemaTest, CohereRerankTakesStringsOrTextObjects) {
  CohereRerankRequest request;
  EXPECT_EQ(StatusOf(ParseCohereRerankRequest(
                R"({"model":"m","query":"q","documents":["a",{"text":"b","id":7}],"top_n":1,)"
                R"("return_documents":true})",
                {}, &request)),
            200);
  EXPECT_EQ(request.model, "m");
  EXPECT_EQ(request.documents, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(request.top_n.has_value());
  EXPECT_EQ(*request.top_n, 1u);
  EXPECT_TRUE(request.return_documents);
  CohereRerankRequest defaults;
  EXPECT_EQ(StatusOf(ParseCohereRerankRequest(R"({"query":"q","documents":["a"]})", {}, &defaults)),
            200);
  EXPECT_FALSE(defaults.top_n.has_value());
  EXPECT_FALSE(defaults.return_documents);
  EXPECT_TRUE(defaults.model.empty());
  for (const char* body :
       {R"({"query":"q","documents":[]})", R"({"query":"q","documents":[{"txt":"a"}]})",
        R"({"query":"q","documents":[{"text":""}]})", R"({"query":"q","documents":[3]})",
        R"({"query":"q","documents":["a"],"top_n":0})",
        R"({"query":"q","documents":["a"],"top_n":-2})",
        R"({"query":"q","documents":["a"],"top_n":1.5})",
        R"({"query":"q","documents":["a"],"model":3})", R"({"documents":["a"]})"}) {
    CohereRerankRequest bad;
    EXPECT_EQ(StatusOf(ParseCohereRerankRequest(body, {}, &bad)), 422) << body;
  }
}

}  // namespace
}  // namespace mg::serve
