// Safetensors parsing: validates a safetensors image in memory and describes
// its tensors in place.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, …,
// "__metadata__": {string: string}}), then the data area that the offsets
// index. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/checkpoint.h"

namespace mg::model {

// Headers above this are rejected before parsing (the reference reader's cap).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

struct SafetensorsContents {
  std::vector<TensorRecord> tensors;  // in data order; data points into the image
  std::map<std::string, std::string> metadata;
};

// Checks everything the reference reader checks: header length within the
// image and the cap, valid JSON object, known dtypes, shapes without
// overflow, offsets consistent with shape x dtype size, and tensors that tile
// the data area exactly (no overlap, no hole, no trailing bytes). Errors name
// `file`.
Result<SafetensorsContents> ParseSafetensors(const uint8_t* data, size_t size,
                                             const std::string& file);

// Number of elements of `shape`; false on a negative dimension or overflow.
bool ShapeNumel(const std::vector<int64_t>& shape, uint64_t* numel);

}  // namespace mg::model
