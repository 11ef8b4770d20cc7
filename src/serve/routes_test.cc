// The route table: every path is served by one route, every route is
// complete for its pipeline and names a scope the control plane knows,
// scope names round-trip, and the known routes keep their scope, licence
// feature and quota rule.
#include "serve/routes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "serve/licence_gate.h"
#include "store/control_plane.h"

namespace mg::serve {
namespace {

using release::LicenceFeature;

bool IsRequestPipeline(Pipeline pipeline) {
  return pipeline == Pipeline::kModel || pipeline == Pipeline::kTokenizer ||
         pipeline == Pipeline::kCatalogue;
}

// A path and method pair is served by one route (a path may be served by
// two routes for different methods: GET / is the dashboard, POST / runs the
// model).
TEST(RoutesTest, EveryPathIsServedByOneRoute) {
  std::set<std::pair<std::string_view, std::string_view>> paths;
  for (const RouteSpec& route : Routes()) {
    ASSERT_TRUE(route.path.starts_with("/")) << route.path;
    EXPECT_TRUE(paths.insert({route.path, route.method}).second) << "twice: " << route.path;
    if (!route.prefix) {
      EXPECT_EQ(FindRoute(route.path, route.method), &route) << route.path;
    }
    for (std::string_view alias : route.aliases) {
      EXPECT_TRUE(paths.insert({alias, route.method}).second) << "twice: " << alias;
      EXPECT_EQ(FindRoute(alias, route.method), &route) << alias;
    }
  }
  EXPECT_EQ(FindRoute("/", "GET")->pipeline, Pipeline::kDashboard);
  EXPECT_EQ(FindRoute("/", "POST")->pipeline, Pipeline::kByModelType);
  EXPECT_TRUE(FindRoute("/", "POST")->single_as_batch);
  EXPECT_EQ(FindRoute("/invocations", "POST")->pipeline, Pipeline::kByModelType);
  EXPECT_FALSE(FindRoute("/invocations", "POST")->single_as_batch);
  // Another method finds a route, which answers 405.
  EXPECT_EQ(FindRoute("/invocations", "GET")->method, "POST");
}

TEST(RoutesTest, EveryRouteHasANameAndWhatItsPipelineNeeds) {
  std::set<std::string_view> names;
  for (const RouteSpec& route : Routes()) {
    SCOPED_TRACE(std::string(route.path));
    EXPECT_FALSE(route.name.empty());
    EXPECT_TRUE(names.insert(route.name).second) << "name used twice: " << route.name;
    EXPECT_EQ(FindRouteByName(route.name), &route);
    if (route.pipeline == Pipeline::kByModelType) {
      EXPECT_EQ(route.method, "POST");
      continue;
    }
    if (!IsRequestPipeline(route.pipeline)) {
      EXPECT_FALSE(route.licence_quota);
      continue;
    }
    // Request routes need a key with a scope, and take POST.
    EXPECT_NE(route.scope, Scope::kPublic);
    EXPECT_EQ(route.method, "POST");
    switch (route.pipeline) {
      case Pipeline::kModel:
        EXPECT_NE(route.parse, nullptr);
        EXPECT_NE(route.format_rows, nullptr);
        EXPECT_EQ(route.format_tokens, nullptr);
        break;
      case Pipeline::kTokenizer:
        EXPECT_NE(route.parse, nullptr);
        EXPECT_NE(route.format_tokens, nullptr);
        EXPECT_EQ(route.format_rows, nullptr);
        break;
      case Pipeline::kCatalogue:
        EXPECT_NE(route.catalogue, CatalogueOp::kNone);
        break;
      default:
        break;
    }
  }
}

TEST(RoutesTest, ScopeNamesRoundTripAndAreTheControlPlanes) {
  std::set<std::string> store_scopes(std::begin(store::kScopes), std::end(store::kScopes));
  for (Scope scope : {Scope::kClassify, Scope::kEmbed, Scope::kRecommend, Scope::kAdmin}) {
    const std::string_view name = ScopeName(scope);
    EXPECT_EQ(ParseScope(name), scope) << name;
    EXPECT_EQ(store_scopes.count(std::string(name)), 1u) << name;
  }
  for (const char* name : store::kScopes) EXPECT_TRUE(ParseScope(name).has_value()) << name;
  EXPECT_EQ(ScopeName(Scope::kPublic), "");
  EXPECT_FALSE(ParseScope("").has_value());
  EXPECT_FALSE(ParseScope("Embed").has_value());
  EXPECT_FALSE(ParseScope("public").has_value());
  // Every scope a route needs is one a key can be granted.
  for (const RouteSpec& route : Routes()) {
    if (route.scope != Scope::kPublic) {
      EXPECT_EQ(store_scopes.count(std::string(ScopeName(route.scope))), 1u) << route.path;
    }
  }
}

TEST(RoutesTest, KnownRoutesKeepTheirScopeFeatureAndQuotaRule) {
  struct Expected {
    const char* path;
    const char* name;
    Pipeline pipeline;
    Scope scope;
    LicenceFeature feature;
    bool licence_quota;
  };
  const Expected expected[] = {
      {"/embed", "/embed", Pipeline::kModel, Scope::kEmbed, LicenceFeature::kEmbed, true},
      {"/v1/embeddings", "/v1/embeddings", Pipeline::kModel, Scope::kEmbed, LicenceFeature::kEmbed,
       true},
      {"/embeddings", "/v1/embeddings", Pipeline::kModel, Scope::kEmbed, LicenceFeature::kEmbed,
       true},
      {"/predict", "/predict", Pipeline::kModel, Scope::kClassify, LicenceFeature::kClassify, true},
      {"/tokenize", "/tokenize", Pipeline::kTokenizer, Scope::kEmbed, LicenceFeature::kNone, false},
      {"/decode", "/decode", Pipeline::kTokenizer, Scope::kEmbed, LicenceFeature::kNone, false},
      {"/similarity", "/similarity", Pipeline::kModel, Scope::kEmbed, LicenceFeature::kEmbed, true},
      {"/embed_all", "/embed_all", Pipeline::kModel, Scope::kEmbed, LicenceFeature::kEmbed, true},
      {"/embed_sparse", "/embed_sparse", Pipeline::kModel, Scope::kEmbed, LicenceFeature::kEmbed,
       false},
      {"/ping", "/ping", Pipeline::kPing, Scope::kPublic, LicenceFeature::kNone, false},
      {"/v1/items", "/v1/items", Pipeline::kCatalogue, Scope::kAdmin, LicenceFeature::kRecommend,
       false},
      {"/v1/items/delete", "/v1/items/delete", Pipeline::kCatalogue, Scope::kAdmin,
       LicenceFeature::kRecommend, false},
      {"/v1/recommend", "/v1/recommend", Pipeline::kCatalogue, Scope::kRecommend,
       LicenceFeature::kRecommend, true},
      {"/health", "/health", Pipeline::kHealth, Scope::kPublic, LicenceFeature::kNone, false},
      {"/info", "/info", Pipeline::kInfo, Scope::kPublic, LicenceFeature::kNone, false},
      {"/metrics", "/metrics", Pipeline::kMetrics, Scope::kAdmin, LicenceFeature::kNone, false},
      {"/admin/keys/revoke", "/admin", Pipeline::kAdmin, Scope::kAdmin, LicenceFeature::kNone,
       false},
      {"/", "dashboard", Pipeline::kDashboard, Scope::kPublic, LicenceFeature::kNone, false},
      {"/dashboard/app.js", "dashboard", Pipeline::kDashboard, Scope::kPublic,
       LicenceFeature::kNone, false},
  };
  for (const Expected& want : expected) {
    SCOPED_TRACE(want.path);
    const RouteSpec* route = FindRoute(want.path);
    ASSERT_NE(route, nullptr);
    EXPECT_EQ(route->name, want.name);
    EXPECT_EQ(route->pipeline, want.pipeline);
    EXPECT_EQ(route->scope, want.scope);
    EXPECT_EQ(route->feature, want.feature);
    EXPECT_EQ(route->licence_quota, want.licence_quota);
  }
  EXPECT_EQ(FindRoute("/predict")->task, Task::kClassify);
  EXPECT_EQ(FindRoute("/embed")->task, Task::kEmbed);
  EXPECT_EQ(FindRoute("/embed_all")->task, Task::kEmbedTokens);
  EXPECT_EQ(FindRoute("/v1/embeddings")->style, ApiStyle::kOpenAi);
  EXPECT_EQ(FindRoute("/embed")->style, ApiStyle::kTei);
  for (const char* path : {"/nope", "/admin", "/embed/", "/v1/item", "/predictions", ""}) {
    EXPECT_EQ(FindRoute(path), nullptr) << path;
  }
}

TEST(RoutesTest, TheLicenceGatesCountWhatTheRouteSays) {
  for (const RouteSpec& route : Routes()) {
    GateRequest request;
    request.route = route.name;
    request.scope = ScopeName(route.scope);
    EXPECT_EQ(CountsTowardsLicence(request), route.licence_quota) << route.name;
  }
  GateRequest unknown;
  unknown.route = "/embed/raw";
  unknown.scope = "embed";
  EXPECT_FALSE(CountsTowardsLicence(unknown));
}

}  // namespace
}  // namespace mg::serve
