// Safetensors images: header length, JSON header, offsets and data area.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto contents = mg::model::ParseSafetensors(data, size, "fuzz.safetensors");
  if (!contents.ok()) return 0;
  // Every accepted tensor lies inside the image; touching each byte lets
  // ASan catch an offset check that let one through.
  uint64_t sum = 0;
  for (const auto& tensor : contents->tensors) {
    if (tensor.data < data || tensor.data + tensor.size_bytes > data + size) {
      mg::fuzz::Fail("tensor outside the image");
    }
    for (size_t byte = 0; byte < tensor.size_bytes; ++byte) sum += tensor.data[byte];
  }
  return static_cast<int>(sum & 0);
}
