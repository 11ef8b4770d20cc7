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
  EXPECT_FALSE(single.truncate.has_value());  // the server's --auto-truncate decides
  EXPECT_EQ(single.dimensions, 0);
  EmbedRequest list;
  EXPECT_EQ(StatusOf(ParseEmbedRequest(
                R"({"inputs":["a","b"],"normalize":false,"truncate":true,"x":1})", {}, &list)),
            200);
  EXPECT_EQ(list.inputs.texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(list.inputs.batched);
  EXPECT_FALSE(list.normalize);
  EXPECT_EQ(list.truncate, std::optional<bool>(true));
  EmbedRequest explicit_false;
  EXPECT_EQ(StatusOf(ParseEmbedRequest(R"({"inputs":"a","truncate":false,"dimensions":8})", {},
                                       &explicit_false)),
            200);
  EXPECT_EQ(explicit_false.truncate, std::optional<bool>(false));
  EXPECT_EQ(explicit_false.dimensions, 8);
  for (const char* body :
       {R"({"inputs":"a","dimensions":0})", R"({"inputs":"a","dimensions":-1})",
        R"({"inputs":"a","dimensions":"8"})", R"({"inputs":"a","dimensions":1.5})"}) {
    EmbedRequest bad;
    EXPECT_EQ(StatusOf(ParseEmbedRequest(body, {}, &bad)), 422) << body;
  }
}

TEST(SchemaTest, BadBodies) {
  EmbedRequest r;
  EXPECT_EQ(StatusOf(ParseEmbedRequest("{\"inputs\":", {}, &r)), 400);
  EXPECT_EQ(StatusOf(ParseEmbedRequest("{\"inputs\":\"\xff\xfe\"}", {}, &r)), 400);
  EmbedRequest array;
  EXPECT_EQ(StatusOf(ParseEmbedRequest("[1]", {}, &array)), 422);
  for (const char* body : {R"({})", R"({"inputs":5})", R"({"inputs":""})", R"({"inputs":["a",3]})",
                           R"({"inputs":[[1,2]]})", R"({"inputs":"a","normalize":"yes"})"}) {
    EmbedRequest request;
    auto error = ParseEmbedRequest(body, {}, &request);
    EXPECT_EQ(StatusOf(error), 422) << body;
    if (error) {
      EXPECT_EQ(error->type, "validation") << body;
    }
  }
  // An empty list is TEI's "Empty": 400.
  EmbedRequest empty;
  auto empty_error = ParseEmbedRequest(R"({"inputs":[]})", {}, &empty);
  ASSERT_TRUE(empty_error);
  EXPECT_EQ(empty_error->status, 400);
  EXPECT_EQ(empty_error->type, "empty");
  PredictRequest empty_predict;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":[]})", {}, &empty_predict)), 400);
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
  // A flat list of more than two strings is refused, as TEI does, with the
  // batch form it should have been.
  PredictRequest flat;
  auto error = ParsePredictRequest(R"({"inputs":["a","b","c"]})", {}, &flat);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 422);
  EXPECT_EQ(error->type, "validation");
  EXPECT_NE(error->message.find(R"([["a"], ["b"], ["c"])"), std::string::npos) << error->message;
  PredictRequest two;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":["a","b"]})", {}, &two)), 200);
  EXPECT_FALSE(two.inputs.batched);
  EXPECT_FALSE(two.truncate.has_value());
  PredictRequest singles;
  EXPECT_EQ(StatusOf(ParsePredictRequest(R"({"inputs":[["a"],["b"]]})", {}, &singles)), 200);
  EXPECT_TRUE(singles.inputs.batched);
  EXPECT_EQ(singles.inputs.texts.size(), 2u);
}

TEST(SchemaTest, OpenAi) {
  OpenAiEmbedRequest request;
  EXPECT_EQ(StatusOf(ParseOpenAiEmbedRequest(
                R"({"input":["a"],"model":"m","encoding_format":"base64"})", {}, &request)),
            200);
  EXPECT_EQ(request.model, "m");
  EXPECT_TRUE(request.base64);
  // Token ids, one list or a list of lists.
  OpenAiEmbedRequest tokens;
  EXPECT_EQ(
      StatusOf(ParseOpenAiEmbedRequest(R"({"input":[[1,2,3],[4]],"dimensions":16})", {}, &tokens)),
      200);
  EXPECT_TRUE(tokens.inputs.batched);
  EXPECT_TRUE(tokens.inputs.texts.empty());
  EXPECT_EQ(tokens.inputs.ids, (std::vector<std::vector<int32_t>>{{1, 2, 3}, {4}}));
  EXPECT_EQ(tokens.dimensions, 16);
  OpenAiEmbedRequest one;
  EXPECT_EQ(StatusOf(ParseOpenAiEmbedRequest(R"({"input":[5,6]})", {}, &one)), 200);
  EXPECT_FALSE(one.inputs.batched);
  EXPECT_EQ(one.inputs.ids, (std::vector<std::vector<int32_t>>{{5, 6}}));
  for (const char* body : {R"({"input":[-1]})", R"({"input":[[1],[-2]]})", R"({"input":[[1],"a"]})",
                           R"({"input":[1,"a"]})", R"({"input":"a","dimensions":0})"}) {
    OpenAiEmbedRequest bad;
    EXPECT_EQ(StatusOf(ParseOpenAiEmbedRequest(body, {}, &bad)), 422) << body;
  }
  OpenAiEmbedRequest empty_ids;
  EXPECT_EQ(StatusOf(ParseOpenAiEmbedRequest(R"({"input":[[1],[]]})", {}, &empty_ids)), 400);
  OpenAiEmbedRequest format;
  EXPECT_EQ(
      StatusOf(ParseOpenAiEmbedRequest(R"({"input":"a","encoding_format":"x"})", {}, &format)),
      422);
}

TEST(SchemaTest, SimilarityEmbedAllAndDecode) {
  SimilarityRequest similarity;
  EXPECT_EQ(StatusOf(ParseSimilarityRequest(
                R"({"inputs":{"source_sentence":"s","sentences":["a","b"]},"truncate":true})", {},
                &similarity)),
            200);
  EXPECT_EQ(similarity.inputs.texts, (std::vector<std::string>{"s", "a", "b"}));
  EXPECT_EQ(similarity.truncate, std::optional<bool>(true));
  for (const char* body : {R"({"inputs":"s"})", R"({"inputs":{"sentences":["a"]}})",
                           R"({"inputs":{"source_sentence":"s"}})",
                           R"({"inputs":{"source_sentence":"s","sentences":"a"}})",
                           R"({"inputs":{"source_sentence":"s","sentences":[1]}})"}) {
    SimilarityRequest bad;
    EXPECT_EQ(StatusOf(ParseSimilarityRequest(body, {}, &bad)), 422) << body;
  }
  SimilarityRequest none;
  EXPECT_EQ(StatusOf(ParseSimilarityRequest(R"({"inputs":{"source_sentence":"s","sentences":[]}})",
                                            {}, &none)),
            400);
  SchemaLimits limits;
  limits.max_inputs = 1;
  SimilarityRequest many;
  EXPECT_EQ(StatusOf(ParseSimilarityRequest(
                R"({"inputs":{"source_sentence":"s","sentences":["a","b"]}})", limits, &many)),
            422);

  EmbedAllRequest all;
  EXPECT_EQ(StatusOf(ParseEmbedAllRequest(R"({"inputs":["a","b"]})", {}, &all)), 200);
  EXPECT_EQ(all.inputs.texts.size(), 2u);

  DecodeRequest single;
  EXPECT_EQ(StatusOf(ParseDecodeRequest(R"({"ids":[1,2]})", {}, &single)), 200);
  EXPECT_FALSE(single.batched);
  EXPECT_TRUE(single.skip_special_tokens);
  EXPECT_EQ(single.ids, (std::vector<std::vector<int32_t>>{{1, 2}}));
  DecodeRequest batch;
  EXPECT_EQ(StatusOf(ParseDecodeRequest(R"({"ids":[[1],[2,3]],"skip_special_tokens":false})", {},
                                        &batch)),
            200);
  EXPECT_TRUE(batch.batched);
  EXPECT_FALSE(batch.skip_special_tokens);
  EXPECT_EQ(batch.ids.size(), 2u);
  for (const char* body :
       {R"({})", R"({"ids":"1"})", R"({"ids":[1,"a"]})", R"({"ids":[[1],2]})", R"({"ids":[-3]})"}) {
    DecodeRequest bad;
    EXPECT_EQ(StatusOf(ParseDecodeRequest(body, {}, &bad)), 422) << body;
  }
  DecodeRequest empty;
  EXPECT_EQ(StatusOf(ParseDecodeRequest(R"({"ids":[]})", {}, &empty)), 400);
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
  EXPECT_FALSE(request.truncate.has_value());
  RerankRequest truncating;
  EXPECT_EQ(StatusOf(ParseRerankRequest(R"({"query":"q","texts":["a"],"truncate":false})", {},
                                        &truncating)),
            200);
  EXPECT_EQ(truncating.truncate, std::optional<bool>(false));
  RerankRequest none;
  EXPECT_EQ(StatusOf(ParseRerankRequest(R"({"query":"q","texts":[]})", {}, &none)), 400);
  RerankRequest defaults;
  EXPECT_EQ(StatusOf(ParseRerankRequest(R"({"query":"q","texts":["a"]})", {}, &defaults)), 200);
  EXPECT_FALSE(defaults.raw_scores || defaults.return_text || defaults.truncate.has_value());

  EXPECT_EQ(StatusOf(ParseRerankRequest("{\"query\":", {}, &request)), 400);
  for (const char* body :
       {R"({"texts":["a"]})", R"({"query":"","texts":["a"]})", R"({"query":1,"texts":["a"]})",
        R"({"query":"q"})", R"({"query":"q","texts":"a"})", R"({"query":"q","texts":["a",""]})",
        R"({"query":"q","texts":["a",{"text":"b"}]})",
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
       {R"({"query":"q","documents":[{"txt":"a"}]})", R"({"query":"q","documents":[{"text":""}]})",
        R"({"query":"q","documents":[3]})", R"({"query":"q","documents":["a"],"top_n":0})",
        R"({"query":"q","documents":["a"],"top_n":-2})",
        R"({"query":"q","documents":["a"],"top_n":1.5})",
        R"({"query":"q","documents":["a"],"model":3})", R"({"documents":["a"]})"}) {
    CohereRerankRequest bad;
    EXPECT_EQ(StatusOf(ParseCohereRerankRequest(body, {}, &bad)), 422) << body;
  }
  CohereRerankRequest none;
  EXPECT_EQ(StatusOf(ParseCohereRerankRequest(R"({"query":"q","documents":[]})", {}, &none)), 400);
}

}  // namespace
}  // namespace mg::serve
