// DType: element types of stored and computed tensors, and conversions of
// half-precision storage formats to float.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mg {

enum class DType { kF32, kF16, kBF16, kF64, kI8, kU8, kI16, kI32, kI64, kBool };

// Bytes per element.
size_t DTypeSize(DType dtype);
// "F32", "F16", "BF16", … (safetensors spelling).
std::string_view DTypeName(DType dtype);
// Parses the safetensors spelling; false when unknown.
bool ParseDTypeName(std::string_view name, DType* dtype);

inline float Bf16ToF32(uint16_t bits) {
  const uint32_t widened = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &widened, sizeof(value));
  return value;
}

// IEEE 754 binary16 to binary32, subnormals, infinities and NaN included.
float F16ToF32(uint16_t bits);

// Round-to-nearest-even float to binary16 / bfloat16.
uint16_t F32ToF16(float value);
uint16_t F32ToBf16(float value);

// Converts `count` elements of `dtype` at `src` (any alignment) to float.
// Supports F32, F16, BF16 and F64; returns false for other types.
bool ConvertToF32(DType dtype, const void* src, size_t count, float* dst);

}  // namespace mg
