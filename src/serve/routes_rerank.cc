// /rerank (TEI) and /v1/rerank (Cohere, Jina): a query and the texts to rank
// become one (query, text) pair sequence each, run through a one-label
// classifier (a cross-encoder) by the batcher like any /predict batch. The
// score of a pair is the sigmoid of its logit, as TEI and
// sentence-transformers' CrossEncoder give it; TEI's `raw_scores` keeps the
// logit. Replies list the texts best first (ties in request order); under an
// output policy only the best K, scores rounded or null.
#include <algorithm>
#include <numeric>

#include "base/json_writer.h"
#include "model/model.h"
#include "serve/call.h"

namespace mg::serve {
namespace {

// The query paired with each text: one sequence per text.
TextInputs PairsOf(const std::string& query, std::vector<std::string> texts) {
  TextInputs inputs;
  inputs.batched = true;
  inputs.texts.assign(texts.size(), query);
  inputs.pairs.reserve(texts.size());
  for (std::string& text : texts) inputs.pairs.emplace_back(std::move(text));
  return inputs;
}

// The row indices of `scores`, best first.
std::vector<size_t> RankOrder(const std::vector<float>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&scores](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

// The one logit per pair, through the sigmoid unless `raw`.
std::vector<float> PairScores(const Call& call, const BatchResult& result, bool raw) {
  const int64_t rows = call.packed.sequences();
  std::vector<float> scores(static_cast<size_t>(rows));
  for (int64_t s = 0; s < rows; ++s) {
    scores[s] = result.values[static_cast<size_t>(s * result.width)];
    if (!raw) model::ActivateScores(model::ProblemType::kMultiLabel, &scores[s], 1);
  }
  return scores;
}

const std::string& TextOf(const Call& call, size_t index) { return *call.inputs.pairs[index]; }

}  // namespace

std::optional<ApiError> ParseRerankCall(const SchemaLimits& limits, Call* call) {
  RerankRequest request;
  if (auto error = ParseRerankRequest(call->request.body, limits, &request)) return error;
  call->inputs = PairsOf(request.query, std::move(request.texts));
  call->truncate = request.truncate;
  call->raw_scores = request.raw_scores;
  call->return_text = request.return_text;
  return std::nullopt;
}

std::optional<ApiError> ParseCohereRerankCall(const SchemaLimits& limits, Call* call) {
  CohereRerankRequest request;
  if (auto error = ParseCohereRerankRequest(call->request.body, limits, &request)) return error;
  call->inputs = PairsOf(request.query, std::move(request.documents));
  call->openai_model = std::move(request.model);
  call->top_n = request.top_n;
  call->return_text = request.return_documents;
  call->truncate = true;  // Cohere and Jina truncate long documents; clients cannot ask
  return std::nullopt;
}

std::string FormatRerank(const Call& call, const release::ServedModel& /*served*/,
                         BatchResult* result) {
  const std::vector<float> scores = PairScores(call, *result, call.raw_scores);
  std::vector<size_t> order = RankOrder(scores);
  order.resize(ShownLabels(call.output, order.size()));
  std::string out = "[";
  bool first = true;
  for (size_t index : order) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"index\":");
    AppendJsonInt(&out, static_cast<int64_t>(index));
    out.append(",\"score\":");
    AppendPolicyScore(&out, scores[index], call.output);
    if (call.return_text) {
      out.append(",\"text\":");
      AppendJsonString(&out, TextOf(call, index));
    }
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string FormatCohereRerank(const Call& call, const release::ServedModel& served,
                               BatchResult* result) {
  const std::vector<float> scores = PairScores(call, *result, false);
  std::vector<size_t> order = RankOrder(scores);
  // top_n narrows the list; it never lists more than the output policy does.
  if (call.top_n && *call.top_n < order.size()) order.resize(*call.top_n);
  order.resize(ShownLabels(call.output, order.size()));
  std::string out = "{\"model\":";
  AppendJsonString(&out, call.openai_model.empty() ? served.model_id : call.openai_model);
  out.append(",\"results\":[");
  bool first = true;
  for (size_t index : order) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"index\":");
    AppendJsonInt(&out, static_cast<int64_t>(index));
    out.append(",\"relevance_score\":");
    AppendPolicyScore(&out, scores[index], call.output);
    if (call.return_text) {
      out.append(",\"document\":{\"text\":");
      AppendJsonString(&out, TextOf(call, index));
      out.push_back('}');
    }
    out.push_back('}');
  }
  out.append("],\"usage\":{\"total_tokens\":");
  AppendJsonInt(&out, call.packed.tokens());
  out.append("}}");
  return out;
}

}  // namespace mg::serve
