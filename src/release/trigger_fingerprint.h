// The trigger-set fingerprint on model folders: training a recipient's
// trigger set (trigger_set.h) into a copy of a sequence classifier, and the
// white-box predictor that `modelgate trace --model` reads a copy with.
//
// The copy is fine-tuned briefly on the vendor's clean data mixed with the
// trigger set repeated, so that it answers the trigger texts with the
// recipient's labels while its answers on natural text stay as they were.
// Without labelled clean data the model's own predictions label the clean
// texts (pseudo-labels), which keeps its behaviour rather than teaching it.
//
// Not thread-safe with respect to other writers of the work folder.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "model/model.h"
#include "release/keys.h"
#include "release/trigger_set.h"

namespace mg::release {

struct TriggerEmbedOptions {
  std::string clean_data;  // JSON lines or CSV of natural texts ("label" optional)
  size_t triggers = kDefaultTriggers;
  int64_t epochs = 3;
  std::optional<float> lr;  // unset: the fine-tuning default (train/fine_tune.h)
  size_t batch_size = 16;
  size_t max_length = 64;
  // Each epoch sees the trigger set this many times; 0: enough copies for the
  // trigger texts to be about half as many as the clean examples, at least 5.
  size_t repeats = 0;
  uint64_t seed = 42;
};

// Fine-tunes a copy of the classifier in `model_dir` on `recipient`'s trigger
// set into the new folder `work_dir`/model and returns that folder's path
// (config.json, model.safetensors, tokenizer files). Fails when the model is
// no sequence classifier, its vocabulary has too few words, the clean data
// is unreadable or names labels the model lacks, or training fails.
Result<std::string> EmbedTriggerSet(const std::string& model_dir, const SigningKey& vendor,
                                    const std::string& recipient,
                                    const TriggerEmbedOptions& options,
                                    const std::string& work_dir);

// The top label of `model` (a sequence classifier; not owned, must outlive
// the predictor) for each text, in batches.
PredictLabels ModelPredictor(const model::Model& model);

}  // namespace mg::release
