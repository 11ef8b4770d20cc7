#include "serve/routes.h"

#include "serve/call.h"

namespace mg::serve {

using release::LicenceFeature;

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kPublic:
      return "";
    case Scope::kClassify:
      return "classify";
    case Scope::kEmbed:
      return "embed";
    case Scope::kRecommend:
      return "recommend";
    case Scope::kAdmin:
      return "admin";
  }
  return "";
}

std::optional<Scope> ParseScope(std::string_view name) {
  for (Scope scope : {Scope::kClassify, Scope::kEmbed, Scope::kRecommend, Scope::kAdmin}) {
    if (name == ScopeName(scope)) return scope;
  }
  return std::nullopt;
}

const std::vector<RouteSpec>& Routes() {
  static const std::vector<RouteSpec> routes = {
      // Answered without a key.
      {.path = "/health", .name = "/health", .pipeline = Pipeline::kHealth},
      {.path = "/info", .name = "/info", .pipeline = Pipeline::kInfo},
      {.path = "/ping", .name = "/ping", .pipeline = Pipeline::kPing},
      {.path = "/metrics",
       .name = "/metrics",
       .pipeline = Pipeline::kMetrics,
       .scope = Scope::kAdmin},
      {.path = "/dashboard/",
       .prefix = true,
       .aliases = {"/", "/index.html", "/favicon.ico", "/dashboard"},
       .name = "dashboard",
       .method = "GET",
       .pipeline = Pipeline::kDashboard},
      // The control plane's API; admin_api.cc routes within it.
      {.path = "/admin/",
       .prefix = true,
       .name = "/admin",
       .pipeline = Pipeline::kAdmin,
       .scope = Scope::kAdmin},
      // Inference (routes_embed.cc, routes_predict.cc, routes_tokenize.cc).
      {.path = "/embed",
       .name = "/embed",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kEmbed,
       .licence_quota = true,
       .task = Task::kEmbed,
       .parse = ParseEmbedCall,
       .format_rows = FormatEmbeddings,
       .output = RouteOutput::kEmbeddings},
      {.path = "/v1/embeddings",
       .aliases = {"/embeddings"},
       .name = "/v1/embeddings",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .style = ApiStyle::kOpenAi,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kEmbed,
       .licence_quota = true,
       .task = Task::kEmbed,
       .parse = ParseOpenAiEmbedCall,
       .format_rows = FormatOpenAiEmbeddings,
       .output = RouteOutput::kEmbeddings},
      // TEI's POST / (GET / is the dashboard) and SageMaker's /invocations:
      // /predict or /embed, by the model's type.
      {.path = "/",
       .name = "/",
       .method = "POST",
       .pipeline = Pipeline::kByModelType,
       .single_as_batch = true},
      {.path = "/invocations",
       .name = "/invocations",
       .method = "POST",
       .pipeline = Pipeline::kByModelType},
      {.path = "/similarity",
       .name = "/similarity",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kEmbed,
       .licence_quota = true,
       .task = Task::kEmbed,
       .parse = ParseSimilarityCall,
       .format_rows = FormatSimilarities,
       .output = RouteOutput::kSimilarities},
      {.path = "/embed_all",
       .name = "/embed_all",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kEmbed,
       .licence_quota = true,
       .task = Task::kEmbedTokens,
       .parse = ParseEmbedAllCall,
       .format_rows = FormatTokenEmbeddings,
       .output = RouteOutput::kEmbeddings},
      // No supported model has a sparse head: always refused (424, as TEI
      // answers for a model without one), after the key is checked.
      {.path = "/embed_sparse",
       .name = "/embed_sparse",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kEmbed,
       .task = Task::kEmbed,
       .parse = RefuseEmbedSparseCall,
       .format_rows = FormatEmbeddings,
       .output = RouteOutput::kEmbeddings},
      {.path = "/predict",
       .name = "/predict",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .scope = Scope::kClassify,
       .feature = LicenceFeature::kClassify,
       .licence_quota = true,
       .task = Task::kClassify,
       .parse = ParsePredictCall,
       .format_rows = FormatPredictions,
       .output = RouteOutput::kScores},
      // Reranking (routes_rerank.cc): a one-label classifier scores the query
      // paired with each text; one request is many pair sequences.
      {.path = "/rerank",
       .name = "/rerank",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .scope = Scope::kClassify,
       .feature = LicenceFeature::kClassify,
       .licence_quota = true,
       .task = Task::kClassify,
       .parse = ParseRerankCall,
       .format_rows = FormatRerank,
       .output = RouteOutput::kScores,
       .reranker = true},
      {.path = "/v1/rerank",
       .name = "/v1/rerank",
       .method = "POST",
       .pipeline = Pipeline::kModel,
       .style = ApiStyle::kOpenAi,
       .scope = Scope::kClassify,
       .feature = LicenceFeature::kClassify,
       .licence_quota = true,
       .task = Task::kClassify,
       .parse = ParseCohereRerankCall,
       .format_rows = FormatCohereRerank,
       .output = RouteOutput::kScores,
       .reranker = true},
      // Its tokens count towards the key's limits like those of /embed, not
      // towards the licence's.
      {.path = "/tokenize",
       .name = "/tokenize",
       .method = "POST",
       .pipeline = Pipeline::kTokenizer,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kNone,
       .parse = ParseTokenizeCall,
       .format_tokens = FormatTokens},
      // Counts the ids it decodes as /tokenize counts the tokens it lists.
      {.path = "/decode",
       .name = "/decode",
       .method = "POST",
       .pipeline = Pipeline::kTokenizer,
       .scope = Scope::kEmbed,
       .feature = LicenceFeature::kNone,
       .parse = ParseDecodeCall,
       .format_tokens = FormatDecoded},
      // Recommendation (routes_recommend.cc): changing the catalogue is the
      // admin's, querying it the recommend scope's.
      {.path = "/v1/items",
       .name = "/v1/items",
       .method = "POST",
       .pipeline = Pipeline::kCatalogue,
       .style = ApiStyle::kOpenAi,
       .scope = Scope::kAdmin,
       .feature = LicenceFeature::kRecommend,
       .catalogue = CatalogueOp::kAddItems},
      {.path = "/v1/items/delete",
       .name = "/v1/items/delete",
       .method = "POST",
       .pipeline = Pipeline::kCatalogue,
       .style = ApiStyle::kOpenAi,
       .scope = Scope::kAdmin,
       .feature = LicenceFeature::kRecommend,
       .catalogue = CatalogueOp::kDeleteItems},
      {.path = "/v1/recommend",
       .name = "/v1/recommend",
       .method = "POST",
       .pipeline = Pipeline::kCatalogue,
       .style = ApiStyle::kOpenAi,
       .scope = Scope::kRecommend,
       .feature = LicenceFeature::kRecommend,
       .licence_quota = true,
       .catalogue = CatalogueOp::kRecommend,
       .output = RouteOutput::kScores},
  };
  return routes;
}

const RouteSpec* FindRoute(std::string_view path, std::string_view method) {
  const RouteSpec* found = nullptr;
  for (const RouteSpec& route : Routes()) {
    bool match = !route.prefix && route.path == path;
    for (std::string_view alias : route.aliases) match = match || alias == path;
    if (!match) continue;
    if (route.method.empty() || route.method == method) return &route;
    if (found == nullptr) found = &route;
  }
  if (found != nullptr) return found;
  for (const RouteSpec& route : Routes()) {
    if (route.prefix && path.starts_with(route.path)) return &route;
  }
  return nullptr;
}

const RouteSpec* FindRouteByName(std::string_view name) {
  for (const RouteSpec& route : Routes()) {
    if (route.name == name) return &route;
  }
  return nullptr;
}

}  // namespace mg::serve
