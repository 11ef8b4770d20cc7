// A restricted unpickler for PyTorch state dicts.
//
// It decodes the data subset of the pickle protocol (0-5 binary opcodes:
// dicts, lists, tuples, strings, numbers, memo) into a graph of plain
// objects, and understands only the callables a state dict needs:
// collections.OrderedDict, torch._utils._rebuild_tensor(_v2) and
// _rebuild_parameter(_with_state), the torch.*Storage types named by
// persistent ids, and torch dtypes as values. Any other global (os.system,
// builtins.eval, subprocess.Popen, …) is rejected with an error naming it,
// as are INST, OBJ, extension codes and text persistent ids. Nothing is ever
// executed or imported; objects are values in an arena, so cycles and deep
// nesting cannot exhaust the C++ stack, and the limits below bound memory.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"

namespace mg::model {

enum class PickleKind : uint8_t {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTuple,
  kList,
  kDict,
  kGlobal,   // an allowed module attribute, text = "module.name"
  kStorage,  // a persistent id resolved to PickleGraph::storages[integer]
  kTensor,   // a rebuilt tensor, PickleGraph::tensors[integer]
};

struct PickleObject {
  PickleKind kind = PickleKind::kNone;
  int64_t integer = 0;          // kBool, kInt; index for kStorage, kTensor
  double real = 0;              // kFloat
  std::string text;             // kString, kBytes, kGlobal
  std::vector<uint32_t> items;  // kTuple/kList: elements; kDict: key, value, key, value, …
  uint32_t depth = 1;           // nesting depth, for the limit
};

// One storage record of the archive (data/<key>), typed by its storage class.
struct PickleStorage {
  DType dtype = DType::kU8;
  std::string key;
  int64_t numel = 0;
};

// A tensor view: `size` elements with `stride`, `offset` elements into a storage.
struct PickleTensor {
  uint32_t storage = 0;  // index into PickleGraph::storages
  int64_t offset = 0;
  std::vector<int64_t> size;
  std::vector<int64_t> stride;
};

struct PickleGraph {
  std::vector<PickleObject> objects;
  std::vector<PickleStorage> storages;
  std::vector<PickleTensor> tensors;
  uint32_t root = 0;  // the object STOP returned
};

struct PickleLimits {
  size_t max_stack = 1 << 20;    // values on the stack
  size_t max_marks = 1 << 16;    // open MARKs
  size_t max_memo = 1 << 20;     // memo slots (and the largest memo index + 1)
  size_t max_objects = 1 << 21;  // objects created (~180 MB at most)
  uint32_t max_depth = 1000;     // container nesting
};

// Decodes `bytes`. Errors name the opcode offset and the problem (a
// forbidden callable by its dotted name); never crashes on hostile input.
Result<PickleGraph> UnpickleTorch(std::string_view bytes, const PickleLimits& limits = {});

}  // namespace mg::model
