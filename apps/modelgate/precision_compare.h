// One model run in two precisions on the same texts, side by side: what
// `eval --compare` prints and what `release --dtype --validate` signs into a
// release (release/precision_report.h). Defined in cmd_eval.cc.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "data/records.h"

namespace mg::cli {

struct PrecisionComparison {
  std::string model;    // a model folder
  std::string data;     // the texts' file, named in errors (labels are read for classifiers)
  std::string dtype;    // f32, bf16 or int8
  std::string compare;  // the precision set beside it
  size_t batch_size = 32;
  bool embeddings = false;  // also compare sentence embeddings (always without a head)
};

// {"dtype","compare","examples",<dtype>:{metrics},<compare>:{metrics},
// "agreement","accuracy_delta" (dtype minus compare),"cosine":{"mean","min"}}
// — the metrics, agreement and delta for classifiers only. Throws CliError.
std::string ComparePrecisions(const PrecisionComparison& args,
                              const std::vector<data::Record>& records);

}  // namespace mg::cli
