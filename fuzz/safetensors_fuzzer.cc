// Safetensors images: header length, JSON header, offsets and data area.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto contents = mg::model::ParseSafetensors(data, size, "fuzz.safetensors");
  if (!contents.ok()) return 0;
  for (const auto& tensor : contents->tensors) {
    if (tensor.data < data || tensor.data + tensor.size_bytes > data + size) {
      mg::fuzz::Fail("tensor outside the image");
    }
    // Copied with memcpy, whose range ASan checks.
    const std::vector<uint8_t> bytes(tensor.data, tensor.data + tensor.size_bytes);
  }
  return 0;
}
