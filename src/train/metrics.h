// Classification metrics: accuracy, macro-F1, per-label precision, recall,
// F1 and support, and the confusion matrix (rows: true label, columns:
// predicted), as scikit-learn defines them (a 0/0 ratio counts as 0).
// Values; stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mg::train {

struct LabelMetrics {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct ClassificationMetrics {
  double accuracy = 0, macro_f1 = 0;
  std::vector<LabelMetrics> per_label;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]; single-label only
};

// Single-label: one true and one predicted class index per example.
ClassificationMetrics SingleLabelMetrics(const std::vector<int64_t>& truth,
                                         const std::vector<int64_t>& predicted, size_t labels);

// Multi-label: [examples, labels] 0/1 truths and predictions; accuracy is the
// exact-match ratio, each label scored as its own binary task.
ClassificationMetrics MultiLabelMetrics(const std::vector<uint8_t>& truth,
                                        const std::vector<uint8_t>& predicted, size_t labels);

// {"accuracy":…,"macro_f1":…,"per_label":{name:{precision,recall,f1,support}},"confusion":[[…]]}
std::string MetricsJson(const ClassificationMetrics& metrics,
                        const std::vector<std::string>& labels);

}  // namespace mg::train
