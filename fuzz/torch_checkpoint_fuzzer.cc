// PyTorch zip checkpoints (pytorch_model.bin): the zip directory, then the
// pickle and storages it names.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "model/torch_zip.h"
#include "model/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto entries = mg::model::ReadZipDirectory(data, size, "fuzz.zip");
  auto tensors = mg::model::ParseTorchCheckpoint(data, size, "fuzz.bin");
  if (!tensors.ok()) return 0;
  uint64_t sum = 0;
  for (const auto& tensor : *tensors) {
    if (tensor.data < data || tensor.data + tensor.size_bytes > data + size) {
      mg::fuzz::Fail("tensor outside the image");
    }
    for (size_t byte = 0; byte < tensor.size_bytes; ++byte) sum += tensor.data[byte];
  }
  return static_cast<int>(sum & 0);
}
