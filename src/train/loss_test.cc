#include "train/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace mg::train {
namespace {

using model::ProblemType;

// Binary cross-entropy of one logit written the textbook way (fine for the
// moderate logits used here): -(y log p + (1 - y) log(1 - p)), p = sigmoid(x).
double NaiveBce(double x, double y) {
  const double p = 1.0 / (1.0 + std::exp(-x));
  return -(y * std::log(p) + (1 - y) * std::log(1 - p));
}

// Central differences of the loss against the analytic gradient.
void ExpectGradientMatchesFiniteDifferences(ProblemType problem, std::vector<float> logits,
                                            const std::vector<float>& targets, int64_t batch,
                                            int64_t labels) {
  std::vector<float> grad(logits.size()), scratch(logits.size());
  LossAndGradient(problem, logits.data(), targets.data(), batch, labels, grad.data());
  const float step = 1e-2f;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float saved = logits[i];
    logits[i] = saved + step;
    const double up =
        LossAndGradient(problem, logits.data(), targets.data(), batch, labels, scratch.data());
    logits[i] = saved - step;
    const double down =
        LossAndGradient(problem, logits.data(), targets.data(), batch, labels, scratch.data());
    logits[i] = saved;
    EXPECT_NEAR(grad[i], (up - down) / (2 * step), 2e-4) << "logit " << i;
  }
}

TEST(LossTest, OneLabelBinaryCrossEntropyMatchesTheTextbookFormula) {
  // A cross-encoder's batch: one logit per pair, relevances 0, 1 and graded.
  const std::vector<float> logits = {2.5f, -1.0f, 0.0f, 0.75f};
  const std::vector<float> targets = {1.0f, 0.0f, 1.0f, 0.3f};
  std::vector<float> grad(4);
  const double loss =
      LossAndGradient(ProblemType::kMultiLabel, logits.data(), targets.data(), 4, 1, grad.data());
  double want = 0;
  for (int i = 0; i < 4; ++i) want += NaiveBce(logits[i], targets[i]) / 4;
  EXPECT_NEAR(loss, want, 1e-6);
  // Logit 0 against target 1 costs log 2.
  float zero = 0, one = 1, g = 0;
  EXPECT_NEAR(LossAndGradient(ProblemType::kMultiLabel, &zero, &one, 1, 1, &g), std::log(2.0),
              1e-9);
  EXPECT_FLOAT_EQ(g, -0.5f);  // sigmoid(0) - 1
}

TEST(LossTest, OneLabelBinaryCrossEntropyStaysFiniteForLargeLogits) {
  const std::vector<float> logits = {80.0f, -80.0f};
  const std::vector<float> targets = {0.0f, 1.0f};
  std::vector<float> grad(2);
  const double loss =
      LossAndGradient(ProblemType::kMultiLabel, logits.data(), targets.data(), 2, 1, grad.data());
  EXPECT_NEAR(loss, 80.0, 1e-6);  // each row costs |x| when confidently wrong
  EXPECT_NEAR(grad[0], 0.5f, 1e-6);
  EXPECT_NEAR(grad[1], -0.5f, 1e-6);
}

TEST(LossTest, GradientsMatchFiniteDifferences) {
  ExpectGradientMatchesFiniteDifferences(ProblemType::kMultiLabel, {2.5f, -1.0f, 0.0f, 0.75f},
                                         {1.0f, 0.0f, 1.0f, 0.3f}, 4, 1);
  ExpectGradientMatchesFiniteDifferences(
      ProblemType::kMultiLabel, {0.2f, -0.4f, 1.1f, 0.9f, -2.0f, 0.1f}, {1, 0, 1, 0, 0, 1}, 2, 3);
  ExpectGradientMatchesFiniteDifferences(ProblemType::kSingleLabel,
                                         {0.2f, -0.4f, 1.1f, 0.9f, -2.0f, 0.1f}, {2, 0}, 2, 3);
  ExpectGradientMatchesFiniteDifferences(ProblemType::kRegression, {0.5f, -1.5f, 2.0f},
                                         {0.0f, 1.0f, 2.5f}, 3, 1);
}

}  // namespace
}  // namespace mg::train
