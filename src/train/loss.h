// Losses of a sequence classifier's logits [batch, labels] and their
// gradients, as Hugging Face's BertForSequenceClassification computes them:
// cross-entropy (single label, mean over the batch), binary cross-entropy with
// logits (multi-label, mean over every element) and mean squared error
// (regression, mean over every element). Stateless; thread-safe.
#pragma once

#include <cstdint>

#include "model/bert_config.h"

namespace mg::train {

// targets: the class index per row (single label), or [batch, labels] values
// (multi-label 0/1, regression). Returns the loss; writes dlogits.
double LossAndGradient(model::ProblemType problem, const float* logits, const float* targets,
                       int64_t batch, int64_t labels, float* dlogits);

}  // namespace mg::train
