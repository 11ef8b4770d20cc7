// Writing safetensors files (tests, training output, releases).
//
// Thread-safe (no shared state). The file appears atomically under its final
// name: a reader never sees a partial file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"

namespace mg::model {

// One tensor to store. Give exactly one source: `f32` values (stored as
// `dtype`, which must then be F32, F16 or BF16, rounding to nearest even), or
// `raw` bytes already in `dtype` (little-endian, any dtype; size checked).
// The pointed-to data is borrowed for the duration of the call.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const float* f32 = nullptr;
  std::string_view raw;
};

// The complete file image (header + data), in the order given.
Result<std::string> SerializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                         const std::map<std::string, std::string>& metadata);

// Serializes and writes atomically to `path`.
Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata);

}  // namespace mg::model
