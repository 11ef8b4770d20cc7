// The restricted unpickler of PyTorch checkpoints (data.pkl), fed directly so
// mutations reach it without a valid zip around them.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "model/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Small limits keep each run fast; the checks they guard are the same.
  mg::model::PickleLimits limits;
  limits.max_stack = 1 << 12;
  limits.max_memo = 1 << 12;
  limits.max_objects = 1 << 14;
  auto graph = mg::model::UnpickleTorch(mg::fuzz::AsText(data, size), limits);
  if (!graph.ok()) return 0;
  if (graph->root >= graph->objects.size()) mg::fuzz::Fail("root outside the object table");
  for (const auto& tensor : graph->tensors) {
    if (tensor.storage >= graph->storages.size()) mg::fuzz::Fail("tensor names no storage");
  }
  return 0;
}
