// PyTorch checkpoint reading: the zip format torch.save writes since 1.6.
//
// The archive holds <prefix>/data.pkl (the pickled state dict, decoded by the
// restricted unpickler in torch_pickle.h) and <prefix>/data/<key>, one
// uncompressed entry per storage. Tensors are described in place: each
// record points into the archive bytes. Contiguous tensors are accepted, also
// views at an offset into a larger shared storage; non-contiguous strides are
// rejected. A state dict nested one level under "state_dict", "model_state_dict",
// "model" or "module" is found too. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/checkpoint.h"

namespace mg::model {

// True when the bytes start like a zip archive.
bool HasZipSignature(const uint8_t* data, size_t size);

// Parses a PyTorch checkpoint image. A legacy (pre-1.6, non-zip) torch file
// or a bare pickle is rejected with a message on how to re-save it. Errors
// name `file`.
Result<std::vector<TensorRecord>> ParseTorchCheckpoint(const uint8_t* data, size_t size,
                                                       const std::string& file);

}  // namespace mg::model
