#include "model/torch_pickle_calls.h"

#include <array>
#include <string_view>
#include <utility>

namespace mg::model::pickle_internal {
namespace {

constexpr std::string_view kOrderedDict = "collections.OrderedDict";

// Storage classes a persistent id may name, with their element type.
constexpr std::array<std::pair<std::string_view, DType>, 13> kStorageTypes = {{
    {"torch.FloatStorage", DType::kF32},
    {"torch.HalfStorage", DType::kF16},
    {"torch.BFloat16Storage", DType::kBF16},
    {"torch.DoubleStorage", DType::kF64},
    {"torch.LongStorage", DType::kI64},
    {"torch.IntStorage", DType::kI32},
    {"torch.ShortStorage", DType::kI16},
    {"torch.CharStorage", DType::kI8},
    {"torch.ByteStorage", DType::kU8},
    {"torch.BoolStorage", DType::kBool},
    {"torch.UntypedStorage", DType::kU8},
    {"torch.storage.UntypedStorage", DType::kU8},
    {"torch.storage._UntypedStorage", DType::kU8},
}};

constexpr std::array<std::string_view, 4> kTensorBuilders = {
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
};

// Dtype objects are harmless values (they may appear as arguments).
constexpr std::array<std::string_view, 9> kDtypeValues = {
    "torch.float16", "torch.bfloat16", "torch.float32", "torch.float64", "torch.int64",
    "torch.int32",   "torch.int8",     "torch.uint8",   "torch.bool",
};

template <typename List>
bool Contains(const List& list, std::string_view name) {
  for (std::string_view entry : list) {
    if (entry == name) return true;
  }
  return false;
}

const PickleObject& Arg(const PickleGraph& graph, const PickleObject& args, size_t index) {
  return graph.objects[args.items[index]];
}

Result<std::vector<int64_t>> IntTuple(const PickleGraph& graph, const PickleObject& tuple,
                                      const char* what) {
  if (tuple.kind != PickleKind::kTuple) {
    return CorruptionError(std::string("tensor ") + what + " is not a tuple");
  }
  std::vector<int64_t> values;
  for (uint32_t item : tuple.items) {
    const PickleObject& value = graph.objects[item];
    if (value.kind != PickleKind::kInt || value.integer < 0) {
      return CorruptionError(std::string("tensor ") + what + " holds a non-integer or negative");
    }
    values.push_back(value.integer);
  }
  return values;
}

Result<PickleObject> RebuildTensor(PickleGraph* graph, const PickleObject& args) {
  if (args.items.size() < 4) {
    return CorruptionError("_rebuild_tensor needs (storage, offset, size, stride)");
  }
  const PickleObject& storage = Arg(*graph, args, 0);
  const PickleObject& offset = Arg(*graph, args, 1);
  if (storage.kind != PickleKind::kStorage) {
    return CorruptionError("_rebuild_tensor: first argument is not a storage");
  }
  if (offset.kind != PickleKind::kInt || offset.integer < 0) {
    return CorruptionError("_rebuild_tensor: storage offset is not a non-negative integer");
  }
  PickleTensor tensor;
  tensor.storage = static_cast<uint32_t>(storage.integer);
  tensor.offset = offset.integer;
  MG_ASSIGN_OR_RETURN(tensor.size, IntTuple(*graph, Arg(*graph, args, 2), "size"));
  MG_ASSIGN_OR_RETURN(tensor.stride, IntTuple(*graph, Arg(*graph, args, 3), "stride"));
  if (tensor.size.size() != tensor.stride.size()) {
    return CorruptionError("_rebuild_tensor: size and stride differ in length");
  }
  PickleObject result;
  result.kind = PickleKind::kTensor;
  result.integer = static_cast<int64_t>(graph->tensors.size());
  graph->tensors.push_back(std::move(tensor));
  return result;
}

}  // namespace

Status CheckGlobal(const std::string& dotted_name) {
  if (dotted_name == kOrderedDict || Contains(kTensorBuilders, dotted_name) ||
      Contains(kDtypeValues, dotted_name)) {
    return Status::Ok();
  }
  for (const auto& [name, dtype] : kStorageTypes) {
    if (name == dotted_name) return Status::Ok();
  }
  return InvalidArgumentError("refusing to load '" + dotted_name +
                              "': a state dict may only reference PyTorch tensor types "
                              "(the file may be malicious, or hold objects other than tensors; "
                              "re-save model.state_dict())");
}

Result<PickleObject> Call(PickleGraph* graph, const PickleObject& callable,
                          const PickleObject& args, bool newobj) {
  if (callable.kind != PickleKind::kGlobal) {
    return CorruptionError("calls an object that is not an allowed global");
  }
  if (args.kind != PickleKind::kTuple) return CorruptionError("call arguments are not a tuple");
  const std::string& name = callable.text;
  if (name == kOrderedDict) {
    if (!args.items.empty()) {
      return UnimplementedError("collections.OrderedDict with initial items is not supported");
    }
    PickleObject dict;
    dict.kind = PickleKind::kDict;
    return dict;
  }
  if (newobj) return InvalidArgumentError("refusing to instantiate '" + name + "'");
  if (name == "torch._utils._rebuild_tensor" || name == "torch._utils._rebuild_tensor_v2") {
    return RebuildTensor(graph, args);
  }
  if (name == "torch._utils._rebuild_parameter" ||
      name == "torch._utils._rebuild_parameter_with_state") {
    if (args.items.empty() || Arg(*graph, args, 0).kind != PickleKind::kTensor) {
      return CorruptionError(name + ": first argument is not a tensor");
    }
    return Arg(*graph, args, 0);
  }
  return InvalidArgumentError("refusing to call '" + name + "'");
}

Result<PickleObject> PersistentLoad(PickleGraph* graph, const PickleObject& pid) {
  if (pid.kind != PickleKind::kTuple || pid.items.size() < 5) {
    return CorruptionError("persistent id is not a ('storage', type, key, location, numel) tuple");
  }
  const PickleObject& tag = Arg(*graph, pid, 0);
  const PickleObject& type = Arg(*graph, pid, 1);
  const PickleObject& key = Arg(*graph, pid, 2);
  const PickleObject& numel = Arg(*graph, pid, 4);
  if (tag.kind != PickleKind::kString || tag.text != "storage") {
    return CorruptionError("persistent id is not a storage reference");
  }
  if (key.kind != PickleKind::kString || key.text.empty() || key.text.size() > 256) {
    return CorruptionError("storage key is not a short string");
  }
  if (numel.kind != PickleKind::kInt || numel.integer < 0) {
    return CorruptionError("storage size is not a non-negative integer");
  }
  if (type.kind != PickleKind::kGlobal) return CorruptionError("storage type is not a class");
  for (const auto& [name, dtype] : kStorageTypes) {
    if (name != type.text) continue;
    PickleObject result;
    result.kind = PickleKind::kStorage;
    result.integer = static_cast<int64_t>(graph->storages.size());
    graph->storages.push_back(PickleStorage{dtype, key.text, numel.integer});
    return result;
  }
  return UnimplementedError("storage type '" + type.text + "' is not supported");
}

Status RefuseOpcode(uint8_t opcode) {
  switch (opcode) {
    case 'o':  // OBJ
      return InvalidArgumentError("refusing to instantiate an object (OBJ)");
    case 0x92:  // NEWOBJ_EX
      return InvalidArgumentError("refusing to instantiate an object (NEWOBJ_EX)");
    case 0x82:  // EXT1
    case 0x83:  // EXT2
    case 0x84:  // EXT4
      return InvalidArgumentError("refusing an extension-registry global (EXT)");
    case 'P':  // PERSID
      return UnimplementedError("text persistent ids are not supported");
    case 'I':
    case 'L':
    case 'S':
    case 'V':
    case 'F':
    case 'g':
    case 'p':
      return UnimplementedError("text (protocol 0) opcodes are not supported");
    default:
      return UnimplementedError("unsupported pickle opcode");
  }
}

}  // namespace mg::model::pickle_internal
