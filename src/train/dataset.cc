#include "train/dataset.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <random>
#include <set>

namespace mg::train {
namespace {

bool ParseInteger(const std::string& s, long long* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseNumber(const std::string& s, float* out) {
  char* end = nullptr;
  *out = std::strtof(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(*out);
}

uint64_t Fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::string Where(const std::string& name, const data::Record& r) {
  return name + " line " + std::to_string(r.line);
}

// Tokenizes the record's text (and pair) into e's ids and type ids.
Status EncodeText(const data::Record& r, const text::Tokenizer& tokenizer,
                  const text::EncodeOptions& options, const std::string& name,
                  text::Encoding* encoding, Example* e) {
  std::string_view pair_view;
  if (r.text_pair) pair_view = *r.text_pair;
  Status status = tokenizer.Encode(r.text, r.text_pair ? &pair_view : nullptr, options, encoding);
  if (!status.ok()) return InvalidArgumentError(Where(name, r) + ": " + status.message());
  e->ids = encoding->ids;
  e->type_ids = encoding->type_ids;
  return Status::Ok();
}

}  // namespace

std::vector<std::string> SplitLabels(const std::string& label) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= label.size()) {
    const size_t bar = label.find('|', start);
    const size_t end = bar == std::string::npos ? label.size() : bar;
    if (end > start) parts.push_back(label.substr(start, end - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return parts;
}

Result<std::vector<std::string>> CollectLabels(const std::vector<data::Record>& records,
                                               model::ProblemType problem,
                                               const std::string& name) {
  if (problem == model::ProblemType::kRegression) return std::vector<std::string>{"score"};
  std::set<std::string> seen;
  for (const data::Record& r : records) {
    if (!r.label) return InvalidArgumentError(Where(name, r) + ": missing \"label\"");
    if (problem == model::ProblemType::kMultiLabel) {
      for (std::string& part : SplitLabels(*r.label)) seen.insert(std::move(part));
    } else {
      if (r.label->empty()) return InvalidArgumentError(Where(name, r) + ": empty \"label\"");
      seen.insert(*r.label);
    }
  }
  std::vector<std::string> labels(seen.begin(), seen.end());
  if (labels.size() < 2 && problem == model::ProblemType::kSingleLabel)
    return InvalidArgumentError(name + ": need at least two distinct labels to train a classifier");
  if (labels.empty()) return InvalidArgumentError(name + ": no labels");
  const bool numeric = std::all_of(labels.begin(), labels.end(), [](const std::string& s) {
    long long v;
    return ParseInteger(s, &v);
  });
  if (numeric) {
    std::sort(labels.begin(), labels.end(), [](const std::string& a, const std::string& b) {
      long long x = 0, y = 0;
      ParseInteger(a, &x);
      ParseInteger(b, &y);
      return x < y;
    });
  }
  return labels;
}

namespace {

// Encodes every record into an Example whose target `target_of(record,
// &target)` sets (or refuses with a message naming the record).
template <typename TargetOf>
Result<LabelledSet> EncodeEach(const std::vector<data::Record>& records,
                               const text::Tokenizer& tokenizer, size_t max_length,
                               const std::string& name, TargetOf target_of) {
  LabelledSet set;
  set.examples.reserve(records.size());
  text::EncodeOptions options;
  options.max_length = max_length;
  text::Encoding encoding;
  for (const data::Record& r : records) {
    Example e;
    MG_RETURN_IF_ERROR(target_of(r, &e.target));
    MG_RETURN_IF_ERROR(EncodeText(r, tokenizer, options, name, &encoding, &e));
    set.tokens += e.ids.size();
    set.examples.push_back(std::move(e));
  }
  return set;
}

}  // namespace

Result<LabelledSet> EncodeRecords(const std::vector<data::Record>& records,
                                  const text::Tokenizer& tokenizer,
                                  const std::vector<std::string>& labels,
                                  model::ProblemType problem, size_t max_length,
                                  const std::string& name) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < labels.size(); ++i) index[labels[i]] = i;
  const auto target_of = [&](const data::Record& r, std::vector<float>* target) -> Status {
    if (!r.label) return InvalidArgumentError(Where(name, r) + ": missing \"label\"");
    if (problem == model::ProblemType::kSingleLabel) {
      auto it = index.find(*r.label);
      if (it == index.end())
        return InvalidArgumentError(Where(name, r) + ": label \"" + *r.label +
                                    "\" is not among the training labels");
      *target = {static_cast<float>(it->second)};
    } else if (problem == model::ProblemType::kMultiLabel) {
      target->assign(labels.size(), 0.0f);
      for (const std::string& part : SplitLabels(*r.label)) {
        auto it = index.find(part);
        if (it == index.end())
          return InvalidArgumentError(Where(name, r) + ": label \"" + part +
                                      "\" is not among the training labels");
        (*target)[it->second] = 1.0f;
      }
    } else {
      float value = 0;
      if (!ParseNumber(*r.label, &value))
        return InvalidArgumentError(Where(name, r) + ": regression label \"" + *r.label +
                                    "\" is not a number");
      *target = {value};
    }
    return Status::Ok();
  };
  return EncodeEach(records, tokenizer, max_length, name, target_of);
}

Result<LabelledSet> EncodeRelevancePairs(const std::vector<data::Record>& records,
                                         const text::Tokenizer& tokenizer, size_t max_length,
                                         const std::string& name) {
  const auto target_of = [&](const data::Record& r, std::vector<float>* target) -> Status {
    if (!r.text_pair)
      return InvalidArgumentError(Where(name, r) +
                                  ": a cross-encoder needs \"text_pair\" (the passage scored "
                                  "against \"text\", the query)");
    if (!r.label) return InvalidArgumentError(Where(name, r) + ": missing \"label\"");
    float relevance = 0;
    if (!ParseNumber(*r.label, &relevance) || relevance < 0 || relevance > 1)
      return InvalidArgumentError(Where(name, r) + ": cross-encoder label \"" + *r.label +
                                  "\" is not a relevance between 0 and 1");
    *target = {relevance};
    return Status::Ok();
  };
  return EncodeEach(records, tokenizer, max_length, name, target_of);
}

void SplitForEval(std::vector<data::Record>* records, double fraction, uint64_t seed,
                  std::vector<data::Record>* eval) {
  std::vector<data::Record> train;
  const uint64_t threshold = static_cast<uint64_t>(fraction * 18446744073709551615.0);
  for (data::Record& r : *records) {
    const std::string key = r.id ? *r.id : "line:" + std::to_string(r.line);
    (Fnv1a(key, seed) < threshold ? eval : &train)->push_back(std::move(r));
  }
  *records = std::move(train);
}

std::vector<size_t> EpochOrder(size_t count, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  return order;
}

void PackBatch(const LabelledSet& set, const std::vector<size_t>& order, size_t begin, size_t end,
               TrainBatch* batch) {
  batch->ids.clear();
  batch->type_ids.clear();
  batch->offsets.assign(1, 0);
  batch->targets.clear();
  for (size_t i = begin; i < end; ++i) {
    const Example& e = set.examples[order[i]];
    batch->ids.insert(batch->ids.end(), e.ids.begin(), e.ids.end());
    batch->type_ids.insert(batch->type_ids.end(), e.type_ids.begin(), e.type_ids.end());
    batch->offsets.push_back(static_cast<int64_t>(batch->ids.size()));
    batch->targets.insert(batch->targets.end(), e.target.begin(), e.target.end());
  }
}

}  // namespace mg::train
