#include "recommend/vector_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "recommend/test_vectors.h"

namespace mg::recommend {
namespace {

TEST(VectorMathTest, DotMatchesDoublePrecisionForEverySize) {
  for (size_t dim = 1; dim <= 70; ++dim) {
    const auto rows = testing::RandomUnitVectors(2, dim, static_cast<uint32_t>(dim));
    double expected = 0;
    for (size_t c = 0; c < dim; ++c) expected += static_cast<double>(rows[c]) * rows[dim + c];
    EXPECT_NEAR(Dot(rows.data(), rows.data() + dim, dim), expected, 1e-5) << dim;
    EXPECT_NEAR(DotScalar(rows.data(), rows.data() + dim, dim), expected, 1e-5) << dim;
  }
}

TEST(VectorMathTest, NormalizeRejectsZeroAndNonFinite) {
  float v[3] = {3, 0, 4};
  ASSERT_TRUE(NormalizeInPlace(v, 3));
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[2], 0.8f);
  float zero[2] = {0, 0};
  EXPECT_FALSE(NormalizeInPlace(zero, 2));
  float inf[2] = {INFINITY, 1};
  EXPECT_FALSE(NormalizeInPlace(inf, 2));
}

TEST(VectorMathTest, ChecksumSeesEveryBitFlipAndTruncation) {
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  const uint64_t original = Checksum64(data);
  for (size_t i = 0; i < data.size(); i += 13) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = data;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_NE(Checksum64(damaged), original);
    }
    EXPECT_NE(Checksum64(std::string_view(data).substr(0, i)), original);
  }
}

}  // namespace
}  // namespace mg::recommend
