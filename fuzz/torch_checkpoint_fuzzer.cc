// PyTorch zip checkpoints (pytorch_model.bin): the zip directory, then the
// pickle and storages it names.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "model/torch_zip.h"
#include "model/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)mg::model::ReadZipDirectory(data, size, "fuzz.zip");
  auto tensors = mg::model::ParseTorchCheckpoint(data, size, "fuzz.bin");
  if (!tensors.ok()) return 0;
  for (const auto& tensor : *tensors) {
    if (tensor.data < data || tensor.data + tensor.size_bytes > data + size) {
      mg::fuzz::Fail("tensor outside the image");
    }
    // Copied with memcpy, whose range ASan checks.
    const std::vector<uint8_t> bytes(tensor.data, tensor.data + tensor.size_bytes);
  }
  return 0;
}
