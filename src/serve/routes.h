// The route table of `modelgate serve`: one RouteSpec per route, and every
// part of the server that cares about routes reads it. Dispatch
// (Service::Handle, Service::Process) finds a request's spec by its path and
// runs its pipeline with its parser and formatter; the key's scope sent to
// the gate, the licence feature checked, whether the request counts towards
// the licence's quotas (LicenceGate, StoreGate) and the name it is counted,
// logged and audited under all come from the spec.
//
// Adding a route: one RouteSpec in routes.cc, plus its handler — for a
// request pipeline a parser (the body into the Call) and a formatter (the
// reply body), in a routes_<family>.cc file; see docs/serving.md, "Adding a
// route".
//
// The table is built once and never changes; every function here is
// thread-safe. Specs live for the whole program, so pointers to them may be
// kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "release/licence_policy.h"
#include "serve/api_error.h"
#include "serve/batcher.h"

namespace mg::release {
struct ServedModel;
}
namespace mg::text {
class Tokenizer;
}

namespace mg::serve {

struct Call;
struct SchemaLimits;

// What an API key must be granted to call a route. The control plane keeps
// a key's scopes as strings (store/control_plane.h, kScopes): ScopeName and
// ParseScope are the one conversion between the two.
enum class Scope {
  kPublic,  // no key needed
  kClassify,
  kEmbed,
  kRecommend,
  kAdmin,
};

// "classify", "embed", "recommend", "admin"; empty for kPublic.
std::string_view ScopeName(Scope scope);
// The scope a key can be granted by that name; nullopt for any other text.
std::optional<Scope> ParseScope(std::string_view name);

// How a route is answered.
enum class Pipeline {
  kHealth,     // on the I/O thread: 200, or 503 while shutting down
  kPing,       // on the I/O thread: 200 {"status":"ok"} (TEI's /ping)
  kInfo,       // on the I/O thread: the model and the server (routes_info.cc)
  kMetrics,    // Prometheus text; with --metrics-auth on a worker, behind the admin scope
  kAdmin,      // the control plane's admin API (admin_api.h) on a worker; 404 without --db
  kDashboard,  // the dashboard's files (routes_dashboard.h)
  // The request pipelines, on the workers: the key first (Gate::Authenticate),
  // then the body (`parse`), the licence (`feature`, on every request), the
  // privacy mode, and the gate's admission with the request's tokens.
  kModel,      // ... tokenised, run by the batcher (`task`), replied by `format_rows`
  kTokenizer,  // ... answered from the tokenizer alone by `format_tokens`
  kCatalogue,  // ... the recommendation API on --index (`catalogue`, routes_recommend.cc)
  // Answered as /predict for a classifier, /embed for an embedding model
  // (TEI's POST / and SageMaker's /invocations); counted under that route.
  kByModelType,
};

// What a route's replies hold, for the caller's output policy
// (base/output_policy.h; docs/serving.md, "Output policies").
enum class RouteOutput {
  kNone,          // nothing a policy limits (tokens, health, ...)
  kScores,        // labels or items with scores: rounded, cut to the best K, or scoreless
  kEmbeddings,    // vectors: rounded, cut to D values, or refused
  kSimilarities,  // scores computed from embeddings: refused when either half is withheld
};

// The recommendation API operation of a kCatalogue route.
enum class CatalogueOp { kNone, kAddItems, kDeleteItems, kRecommend };

// Parses a request's body into `call`'s fields; nullopt when valid.
using Parser = std::optional<ApiError> (*)(const SchemaLimits& limits, Call* call);
// The reply body of a kModel route from the rows the batcher computed (which
// it may change in place).
using RowsFormatter = std::string (*)(const Call& call, const release::ServedModel& served,
                                      BatchResult* result);
// The reply body of a kTokenizer route; `tokens` is set to how many the reply
// lists (they count towards the key's limits).
using TokensFormatter = Result<std::string> (*)(const Call& call, const text::Tokenizer& tokenizer,
                                                int64_t* tokens);

struct RouteSpec {
  std::string_view path = {};  // matched exactly, or as a prefix with `prefix`
  bool prefix = false;
  std::vector<std::string_view> aliases = {};  // further paths, matched exactly
  // What it is counted, logged and audited under: never a client's raw path.
  std::string_view name = {};
  // The method it takes; others are answered 405 (empty: any method).
  std::string_view method = {};
  Pipeline pipeline = Pipeline::kHealth;
  ApiStyle style = ApiStyle::kTei;  // the shape of its error bodies
  // Needed by the key; for /metrics only with --metrics-auth.
  Scope scope = Scope::kPublic;
  // Request pipelines: the licence's terms are checked on every request,
  // and this feature too unless kNone.
  release::LicenceFeature feature = release::LicenceFeature::kNone;
  // Counts towards the licence's max_requests and max_tokens_per_day.
  bool licence_quota = false;
  Task task = Task::kEmbed;  // kModel: what the batcher runs
  Parser parse = nullptr;    // kModel, kTokenizer
  RowsFormatter format_rows = nullptr;
  TokensFormatter format_tokens = nullptr;
  CatalogueOp catalogue = CatalogueOp::kNone;
  RouteOutput output = RouteOutput::kNone;
  // kByModelType: a classifier's single input is answered as a batch of one.
  bool single_as_batch = false;
  // kModel: needs a one-label classifier (a cross-encoder); any other model
  // is answered 424, as TEI answers /rerank.
  bool reranker = false;
};

// Every route, in no particular order.
const std::vector<RouteSpec>& Routes();
// The route serving `path` (exact paths before prefixes); null when none.
// Where two routes share a path with different methods, the one taking
// `method`; when none does, the first (which answers 405).
const RouteSpec* FindRoute(std::string_view path, std::string_view method = {});
// The route counted under `name` (RouteSpec::name); null when none.
const RouteSpec* FindRouteByName(std::string_view name);

}  // namespace mg::serve
