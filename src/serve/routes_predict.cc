// /predict (TEI): its request body, and its replies: per input,
// [{"label", "score"}, ...] sorted by score, highest first; under an output
// policy only the best K labels, scores rounded or null.
#include <algorithm>
#include <numeric>

#include "base/json_writer.h"
#include "model/model.h"
#include "serve/call.h"

namespace mg::serve {

std::optional<ApiError> ParsePredictCall(const SchemaLimits& limits, Call* call) {
  PredictRequest request;
  if (auto error = ParsePredictRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->truncate = request.truncate;
  call->raw_scores = request.raw_scores;
  return std::nullopt;
}

std::string FormatPredictions(const Call& call, const release::ServedModel& served,
                              BatchResult* result) {
  const model::BertConfig& config = served.model->config();
  const int64_t labels = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out;
  const bool as_list = call.inputs.batched || call.single_as_batch;
  if (as_list) out.push_back('[');
  std::vector<int64_t> order(static_cast<size_t>(labels));
  for (int64_t s = 0; s < rows; ++s) {
    float* row = result->values.data() + s * labels;
    if (!call.raw_scores) model::ActivateScores(config.problem_type, row, labels);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    if (s) out.push_back(',');
    out.push_back('[');
    const size_t shown = ShownLabels(call.output, order.size());
    for (size_t rank = 0; rank < shown; ++rank) {
      const int64_t label = order[rank];
      if (rank) out.push_back(',');
      out.append("{\"label\":");
      AppendJsonString(&out, static_cast<size_t>(label) < config.labels.size()
                                 ? config.labels[static_cast<size_t>(label)]
                                 : "LABEL_" + std::to_string(label));
      out.append(",\"score\":");
      AppendPolicyScore(&out, row[label], call.output);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (as_list) out.push_back(']');
  return out;
}

}  // namespace mg::serve
