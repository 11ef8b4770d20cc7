#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mg {
namespace {

TEST(DTypeTest, HalfConversionsRoundTripEveryHalf) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const float value = F16ToF32(static_cast<uint16_t>(bits));
    if (std::isnan(value)) continue;
    ASSERT_EQ(F32ToF16(value), bits) << bits;
  }
}

TEST(DTypeTest, HalfKnownValues) {
  EXPECT_EQ(F16ToF32(0x3C00), 1.0f);
  EXPECT_EQ(F16ToF32(0xC000), -2.0f);
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_TRUE(std::isinf(F16ToF32(0x7C00)));
  EXPECT_EQ(F32ToF16(65520.0f), 0x7C00);                      // rounds to infinity
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // ties to even
}

TEST(DTypeTest, Bfloat16) {
  EXPECT_EQ(Bf16ToF32(0x3F80), 1.0f);
  EXPECT_EQ(F32ToBf16(1.0f), 0x3F80);
  EXPECT_EQ(Bf16ToF32(F32ToBf16(3.14159f)), 3.140625f);
}

TEST(DTypeTest, ParseNames) {
  DType dtype;
  ASSERT_TRUE(ParseDTypeName("BF16", &dtype));
  EXPECT_EQ(dtype, DType::kBF16);
  EXPECT_FALSE(ParseDTypeName("F8_E4M3", &dtype));
  EXPECT_EQ(DTypeSize(DType::kI64), 8u);
}

}  // namespace
}  // namespace mg
