// The Shapiro-Wilk test of normality, by Royston's approximations (Applied
// Statistics algorithm AS R94, 1995): the coefficients from the expected
// normal order statistics, W as the squared correlation of the ordered sample
// with them, and W's p-value from a normalising transformation. Valid for
// 3 <= n <= 5000. The extraction alarm (extraction_monitor.h) runs it on the
// distances between an API key's queries.
//
// Pure functions on values: thread-safe.
#pragma once

#include <vector>

#include "base/status.h"

namespace mg::serve {

struct ShapiroWilk {
  double w = 1;  // in (0, 1]; near 1 for a normal sample
  double p = 1;  // probability of a W this low or lower under normality
};

// The test of `sample` (any order; it is sorted here). InvalidArgument for
// fewer than 3 or more than 5000 values, a non-finite value, or all values
// equal (W is undefined without spread).
Result<ShapiroWilk> ShapiroWilkTest(std::vector<double> sample);

// The upper half's coefficients a_n, a_{n-1}, ... (n/2 of them, largest
// first) for a sample of n, 3 <= n <= 5000: the antisymmetric weights of the
// ordered sample, with the sum of the squares of all n equal to 1.
std::vector<double> ShapiroWilkCoefficients(int n);

// The standard normal quantile function (the inverse of its distribution
// function) for 0 < p < 1.
double NormalQuantile(double p);

}  // namespace mg::serve
