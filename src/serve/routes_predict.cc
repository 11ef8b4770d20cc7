// Replies of /predict (TEI): per input, [{"label", "score"}, ...] sorted by
// score, highest first.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/json_writer.h"
#include "serve/call.h"

namespace mg::serve {
namespace {

// The model's output activation on one row of logits (as Model::Classify).
void Activate(model::ProblemType problem, float* row, int64_t labels) {
  switch (problem) {
    case model::ProblemType::kSingleLabel: {
      const float max = *std::max_element(row, row + labels);
      double sum = 0;
      for (int64_t c = 0; c < labels; ++c) sum += std::exp(static_cast<double>(row[c] - max));
      for (int64_t c = 0; c < labels; ++c) {
        row[c] = static_cast<float>(std::exp(static_cast<double>(row[c] - max)) / sum);
      }
      break;
    }
    case model::ProblemType::kMultiLabel:
      for (int64_t c = 0; c < labels; ++c) row[c] = 1.0f / (1.0f + std::exp(-row[c]));
      break;
    case model::ProblemType::kRegression:
      break;
  }
}

}  // namespace

std::string FormatPredictions(const Call& call, const model::BertConfig& config,
                              BatchResult* result) {
  const int64_t labels = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out;
  if (call.inputs.batched) out.push_back('[');
  std::vector<int64_t> order(static_cast<size_t>(labels));
  for (int64_t s = 0; s < rows; ++s) {
    float* row = result->values.data() + s * labels;
    if (!call.raw_scores) Activate(config.problem_type, row, labels);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    if (s) out.push_back(',');
    out.push_back('[');
    for (size_t rank = 0; rank < order.size(); ++rank) {
      const int64_t label = order[rank];
      if (rank) out.push_back(',');
      out.append("{\"label\":");
      AppendJsonString(&out, static_cast<size_t>(label) < config.labels.size()
                                 ? config.labels[static_cast<size_t>(label)]
                                 : "LABEL_" + std::to_string(label));
      out.append(",\"score\":");
      AppendJsonFloat(&out, row[label]);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (call.inputs.batched) out.push_back(']');
  return out;
}

}  // namespace mg::serve
