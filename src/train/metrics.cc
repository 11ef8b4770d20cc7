#include "train/metrics.h"

#include <nlohmann/json.hpp>

namespace mg::train {
namespace {

LabelMetrics FromCounts(int64_t tp, int64_t fp, int64_t fn) {
  LabelMetrics m;
  m.precision = tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : 0.0;
  m.recall = tp + fn > 0 ? static_cast<double>(tp) / (tp + fn) : 0.0;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  m.support = tp + fn;
  return m;
}

double MacroF1(const std::vector<LabelMetrics>& per_label) {
  if (per_label.empty()) return 0;
  double sum = 0;
  for (const LabelMetrics& m : per_label) sum += m.f1;
  return sum / static_cast<double>(per_label.size());
}

}  // namespace

ClassificationMetrics SingleLabelMetrics(const std::vector<int64_t>& truth,
                                         const std::vector<int64_t>& predicted, size_t labels) {
  ClassificationMetrics m;
  m.confusion.assign(labels, std::vector<int64_t>(labels, 0));
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    ++m.confusion[truth[i]][predicted[i]];
    correct += truth[i] == predicted[i];
  }
  m.accuracy = truth.empty() ? 0 : static_cast<double>(correct) / truth.size();
  for (size_t c = 0; c < labels; ++c) {
    int64_t fp = 0, fn = 0;
    for (size_t o = 0; o < labels; ++o) {
      if (o == c) continue;
      fp += m.confusion[o][c];
      fn += m.confusion[c][o];
    }
    m.per_label.push_back(FromCounts(m.confusion[c][c], fp, fn));
  }
  m.macro_f1 = MacroF1(m.per_label);
  return m;
}

ClassificationMetrics MultiLabelMetrics(const std::vector<uint8_t>& truth,
                                        const std::vector<uint8_t>& predicted, size_t labels) {
  ClassificationMetrics m;
  const size_t examples = labels == 0 ? 0 : truth.size() / labels;
  int64_t exact = 0;
  for (size_t e = 0; e < examples; ++e) {
    bool same = true;
    for (size_t c = 0; c < labels; ++c) same &= truth[e * labels + c] == predicted[e * labels + c];
    exact += same;
  }
  m.accuracy = examples == 0 ? 0 : static_cast<double>(exact) / examples;
  for (size_t c = 0; c < labels; ++c) {
    int64_t tp = 0, fp = 0, fn = 0;
    for (size_t e = 0; e < examples; ++e) {
      const bool t = truth[e * labels + c], p = predicted[e * labels + c];
      tp += t && p;
      fp += !t && p;
      fn += t && !p;
    }
    m.per_label.push_back(FromCounts(tp, fp, fn));
  }
  m.macro_f1 = MacroF1(m.per_label);
  return m;
}

std::string MetricsJson(const ClassificationMetrics& metrics,
                        const std::vector<std::string>& labels) {
  nlohmann::ordered_json root;
  root["accuracy"] = metrics.accuracy;
  root["macro_f1"] = metrics.macro_f1;
  nlohmann::ordered_json per_label = nlohmann::ordered_json::object();
  for (size_t c = 0; c < metrics.per_label.size(); ++c) {
    const LabelMetrics& m = metrics.per_label[c];
    per_label[labels[c]] = {
        {"precision", m.precision}, {"recall", m.recall}, {"f1", m.f1}, {"support", m.support}};
  }
  root["per_label"] = per_label;
  root["confusion"] = metrics.confusion;
  return root.dump();
}

}  // namespace mg::train
