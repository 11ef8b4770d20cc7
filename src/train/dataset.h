// Labelled data for training: records (data/records.h) tokenized once,
// with labels collected into the model's label list (id2label), a
// deterministic train/eval split, and packing into batches without padding.
//
// Label formats: single-label classification takes any string; multi-label
// takes label names separated by '|' ("" for none); regression takes a
// number. Errors name the file and line of the bad row. Values; thread-safe
// for reading.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/records.h"
#include "model/bert_config.h"
#include "text/tokenizer.h"
#include "train/classifier_net.h"

namespace mg::train {

struct Example {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<float> target;  // class index, or one value per label
};

struct LabelledSet {
  std::vector<Example> examples;
  size_t tokens = 0;
};

// The labels of `records` in a stable order: numerically when every label is
// an integer, else lexicographically. Regression has one label, "score".
Result<std::vector<std::string>> CollectLabels(const std::vector<data::Record>& records,
                                               model::ProblemType problem, const std::string& name);

// The label names of a multi-label record: its label split at '|', empty
// parts dropped.
std::vector<std::string> SplitLabels(const std::string& label);

// Tokenizes and labels every record (truncating to max_length tokens).
Result<LabelledSet> EncodeRecords(const std::vector<data::Record>& records,
                                  const text::Tokenizer& tokenizer,
                                  const std::vector<std::string>& labels,
                                  model::ProblemType problem, size_t max_length,
                                  const std::string& name);

// The one label of a cross-encoder (config id2label {"0": "LABEL_0"}).
inline constexpr char kCrossEncoderLabel[] = "LABEL_0";

// Tokenizes (text, text_pair) records for a cross-encoder: each record's
// label is its relevance, a number in [0, 1] (0 irrelevant, 1 relevant), the
// target of the one logit under binary cross-entropy. A record without
// "text_pair" or with a label out of range is an error naming its line.
Result<LabelledSet> EncodeRelevancePairs(const std::vector<data::Record>& records,
                                         const text::Tokenizer& tokenizer, size_t max_length,
                                         const std::string& name);

// Moves about `fraction` of `records` into `eval`, chosen by a hash of each
// record's id (or line number) and `seed`: the same split every run.
void SplitForEval(std::vector<data::Record>* records, double fraction, uint64_t seed,
                  std::vector<data::Record>* eval);

// The order of examples in `epoch`: a seeded shuffle of 0..count-1.
std::vector<size_t> EpochOrder(size_t count, uint64_t seed, int64_t epoch);

// Packs examples order[begin, end) into `batch` (cleared first).
void PackBatch(const LabelledSet& set, const std::vector<size_t>& order, size_t begin, size_t end,
               TrainBatch* batch);

}  // namespace mg::train
