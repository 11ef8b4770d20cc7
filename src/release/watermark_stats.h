// The statistics `modelgate trace` reports when it tests a suspect model for
// an output watermark (release/watermark.h): the Kolmogorov-Smirnov
// two-sample test of the embeddings' similarities to the target, and the
// binomial tail of a classifier's agreement with the keyed labels. Pure
// functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace mg::release {

struct KsResult {
  double statistic = 0;  // D = sup |F_a(x) - F_b(x)|
  double p_value = 1;    // two-sided, asymptotic
};

// The two-sample KS test of `a` against `b` (both non-empty). The p-value is
// the Kolmogorov distribution's tail at sqrt(n m / (n + m)) D, as
// scipy.stats.ks_2samp(method="asymp") computes it.
KsResult KsTwoSample(std::vector<double> a, std::vector<double> b);

// P(K > x) for the Kolmogorov distribution (x >= 0).
double KolmogorovSurvival(double x);

// P(X >= c) for X the cosine of a fixed unit vector with one drawn uniformly
// on the sphere in `dims` >= 3 dimensions (density proportional to
// (1 - x^2)^((dims - 3) / 2)): the p-value of a direction that lines up with
// a secret one by chance.
double SphereCapProbability(double c, int64_t dims);

// P(X >= k) for X ~ Binomial(n, p): the one-sided p-value of k successes in
// n trials when each succeeds by chance with probability p.
double BinomialUpperTail(int64_t k, int64_t n, double p);

}  // namespace mg::release
