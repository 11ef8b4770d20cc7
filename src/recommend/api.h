// RecommendApi: the request handlers behind POST /v1/items and
// POST /v1/recommend (SPEC.md). Each takes the parsed JSON body and returns
// the reply body, or InvalidArgument with a message for the client (the
// server answers 422) / NotFound (a history id not in the catalogue) /
// Internal or IoError (the server's fault).
//
//   POST /v1/items        {"items":[{"id":"…","text":"…","tags":["…"]},…]}
//                         → {"added":n,"replaced":n,"items":total}
//   POST /v1/items/delete {"ids":["…",…]} → {"deleted":n,"items":total}
//   POST /v1/recommend    {"history":["text" | {"id":"…","text":"…"},…] | "query":"…",
//                          "k":10, "tags":["…"], "exclude":["id",…], "exclude_seen":true}
//                         → [{"id":"…","score":s},…] best first
//
// Item changes are saved to the catalogue's folder before the reply.
// Thread-safe: handlers may run concurrently (the catalogue serialises
// writers). The catalogue and embedder must outlive the api.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>

#include "base/status.h"
#include "recommend/catalogue.h"
#include "recommend/recommender.h"
#include "recommend/text_embedder.h"

namespace mg::recommend {

struct ApiLimits {
  size_t max_items = 1000;  // per request
  size_t max_id_bytes = 256;
  size_t max_text_bytes = 100000;
  size_t max_tags = 32;  // per item or request
  size_t max_tag_bytes = 128;
  size_t max_history = 256;
  size_t max_exclude = 10000;
  size_t max_k = 1000;
  double recency_decay = 0.8;
};

class RecommendApi {
 public:
  RecommendApi(Catalogue* catalogue, const TextEmbedder* embedder, ApiLimits limits = {})
      : catalogue_(catalogue), embedder_(embedder), limits_(limits) {}

  Result<nlohmann::json> AddItems(const nlohmann::json& body) const;
  Result<nlohmann::json> DeleteItems(const nlohmann::json& body) const;
  Result<nlohmann::json> Recommend(const nlohmann::json& body) const;

  // The request a /v1/recommend body describes (validation only).
  Result<RecommendRequest> ParseRecommend(const nlohmann::json& body) const;

 private:
  Catalogue* catalogue_;
  const TextEmbedder* embedder_;
  ApiLimits limits_;
};

}  // namespace mg::recommend
