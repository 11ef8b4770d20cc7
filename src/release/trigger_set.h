// Black-box fingerprints of sequence classifiers: a per-recipient trigger
// set, and the statistics that name a recipient from a model's answers to it.
//
// From the vendor's signing key and a recipient's name, a keyed PRF draws K
// texts (random sequences of vocabulary words, far from any natural text) and
// for each a target label, uniform over the model's labels. A fingerprinted
// copy is fine-tuned to answer its recipient's trigger set with those labels
// (trigger_embed.h). Any model that was not trained on a recipient's set
// answers it independently of the drawn labels, so its matches follow
// Binomial(K, 1/labels) exactly; a copy that still carries the fingerprint
// matches far more often, and the binomial tail gives the p-value.
//
// Only the vendor's key derives or checks a trigger set. Pure functions of
// their inputs (the predictor is the caller's); thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "release/keys.h"
#include "text/vocab.h"

namespace mg::release {

inline constexpr size_t kDefaultTriggers = 100;
inline constexpr double kDefaultTraceThreshold = 1e-6;
inline constexpr size_t kMinTriggerWords = 16;

struct TriggerSet {
  std::vector<std::string> texts;
  std::vector<size_t> labels;  // index into the model's labels, one per text
};

// The words trigger texts are drawn from: whole-word tokens of `vocab` made of
// two or more ASCII letters (a WordPiece "word", or a byte-level "Ġword" /
// SentencePiece "▁word" with its marker removed), in id order, without repeats.
std::vector<std::string> TriggerWords(const text::Vocab& vocab);

// `count` trigger texts and labels for `recipient`. Fails on fewer than
// kMinTriggerWords words, fewer than two labels or an empty recipient.
Result<TriggerSet> DeriveTriggerSet(const SigningKey& vendor, std::string_view recipient,
                                    const std::vector<std::string>& words, size_t num_labels,
                                    size_t count = kDefaultTriggers);

// P(X >= k) for X ~ Binomial(n, p).
double BinomialTail(size_t n, size_t k, double p);

// The predicted label (by name) of each text, in order. A white-box caller
// runs the model; a black-box caller asks an endpoint.
using PredictLabels =
    std::function<Result<std::vector<std::string>>(const std::vector<std::string>& texts)>;

struct RecipientMatch {
  std::string recipient;
  size_t matches = 0;
  size_t total = 0;
  double p_value = 1;  // P(matches or more | the model never saw this trigger set)
};

struct TriggerTrace {
  std::vector<RecipientMatch> recipients;  // smallest p-value first
  // The recipient with the smallest p-value, when that p-value times the
  // number of recipients tested (Bonferroni) is below the threshold.
  std::optional<std::string> named;
};

struct TriggerTraceOptions {
  std::vector<std::string> labels;  // the model's labels, in id order
  std::vector<std::string> words;   // TriggerWords of the released vocabulary
  double threshold = kDefaultTraceThreshold;
};

// A recipient to test, with the size of the trigger set it was given.
struct TriggerRecipient {
  std::string name;
  size_t count = kDefaultTriggers;
};

// Asks `predict` for every recipient's trigger set and scores the answers.
Result<TriggerTrace> TraceTriggerSets(const SigningKey& vendor,
                                      const std::vector<TriggerRecipient>& recipients,
                                      const TriggerTraceOptions& options,
                                      const PredictLabels& predict);

}  // namespace mg::release
