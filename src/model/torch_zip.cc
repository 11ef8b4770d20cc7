#include "model/torch_zip.h"

#include <array>
#include <cstring>
#include <map>
#include <string_view>

#include "model/torch_pickle.h"
#include "model/zip_reader.h"

namespace mg::model {
namespace {

constexpr std::array<std::string_view, 4> kNestedStateDictKeys = {"state_dict", "model_state_dict",
                                                                  "model", "module"};

Status Error(const Status& status, const std::string& file) { return status.WithContext(file); }

// Finds <prefix>/data.pkl; returns the prefix including its slash.
Result<std::string> FindPrefix(const std::vector<ZipEntry>& entries, const std::string& file) {
  std::string prefix;
  int found = 0;
  for (const ZipEntry& entry : entries) {
    constexpr std::string_view kPickle = "data.pkl";
    const std::string_view name = entry.name;
    if (name.size() < kPickle.size() || name.substr(name.size() - kPickle.size()) != kPickle) {
      continue;
    }
    const std::string_view head = name.substr(0, name.size() - kPickle.size());
    if (!head.empty() && (head.back() != '/' || head.find('/') != head.size() - 1)) continue;
    prefix = std::string(head);
    ++found;
  }
  if (found == 0) {
    return CorruptionError(file + ": zip archive without data.pkl: not a PyTorch checkpoint");
  }
  if (found > 1) return CorruptionError(file + ": zip archive with several data.pkl records");
  return prefix;
}

// The bytes of a stored entry, or an error for a compressed one.
Result<std::string_view> StoredBytes(const uint8_t* data, const ZipEntry& entry,
                                     const std::string& file) {
  if (entry.method != 0) {
    return UnimplementedError(file + ": entry '" + entry.name + "' is compressed (method " +
                              std::to_string(entry.method) +
                              "); PyTorch stores entries uncompressed: re-save the model with "
                              "torch.save, or do not re-zip the file");
  }
  return std::string_view(reinterpret_cast<const char*>(data + entry.data_offset), entry.size);
}

// The dict holding the tensors: the root, or one nested one level down.
Result<const PickleObject*> FindStateDict(const PickleGraph& graph, const std::string& file) {
  const PickleObject& root = graph.objects[graph.root];
  if (root.kind != PickleKind::kDict) {
    return InvalidArgumentError(file + ": the pickled object is not a dict of tensors");
  }
  auto has_tensors = [&graph](const PickleObject& dict) {
    for (size_t index = 1; index < dict.items.size(); index += 2) {
      if (graph.objects[dict.items[index]].kind == PickleKind::kTensor) return true;
    }
    return false;
  };
  if (has_tensors(root)) return &root;
  for (std::string_view wanted : kNestedStateDictKeys) {
    for (size_t index = 0; index + 1 < root.items.size(); index += 2) {
      const PickleObject& key = graph.objects[root.items[index]];
      const PickleObject& value = graph.objects[root.items[index + 1]];
      if (key.kind == PickleKind::kString && key.text == wanted &&
          value.kind == PickleKind::kDict && has_tensors(value)) {
        return &value;
      }
    }
  }
  return InvalidArgumentError(file + ": no tensors in the pickled dict, nor in a nested " +
                              "'state_dict', 'model_state_dict', 'model' or 'module' dict");
}

// Checks that `tensor` is a contiguous view inside its storage; sets its
// byte range within the storage.
Status CheckView(const PickleTensor& tensor, const PickleStorage& storage, const std::string& name,
                 uint64_t* begin, uint64_t* bytes) {
  const uint64_t element = DTypeSize(storage.dtype);
  uint64_t expected_stride = 1;
  for (size_t dim = tensor.size.size(); dim-- > 0;) {
    if (tensor.size[dim] != 1 && static_cast<uint64_t>(tensor.stride[dim]) != expected_stride) {
      return UnimplementedError("tensor '" + name +
                                "' is not contiguous (a transposed or strided view); call "
                                ".contiguous() on it before torch.save");
    }
    if (__builtin_mul_overflow(expected_stride, static_cast<uint64_t>(tensor.size[dim]),
                               &expected_stride)) {
      return CorruptionError("tensor '" + name + "' has a shape that overflows");
    }
  }
  const uint64_t numel = expected_stride;
  uint64_t end = 0;
  if (__builtin_add_overflow(static_cast<uint64_t>(tensor.offset), numel, &end) ||
      end > static_cast<uint64_t>(storage.numel) ||
      static_cast<uint64_t>(tensor.offset) > static_cast<uint64_t>(storage.numel)) {
    return CorruptionError("tensor '" + name + "' (offset " + std::to_string(tensor.offset) + ", " +
                           std::to_string(numel) + " elements) lies outside its storage of " +
                           std::to_string(storage.numel) + " elements");
  }
  *begin = static_cast<uint64_t>(tensor.offset) * element;
  *bytes = numel * element;
  return Status::Ok();
}

}  // namespace

bool HasZipSignature(const uint8_t* data, size_t size) {
  return size >= 4 && data[0] == 'P' && data[1] == 'K' &&
         ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

Result<std::vector<TensorRecord>> ParseTorchCheckpoint(const uint8_t* data, size_t size,
                                                       const std::string& file) {
  if (!HasZipSignature(data, size)) {
    if (size > 0 && data[0] == 0x80) {
      return UnimplementedError(file +
                                ": legacy (pre-1.6, non-zip) PyTorch format or a bare pickle, "
                                "which is not supported; re-save it with torch>=1.6: "
                                "torch.save(torch.load(path), path)");
    }
    return InvalidArgumentError(file + ": not a PyTorch checkpoint (no zip signature)");
  }
  MG_ASSIGN_OR_RETURN(std::vector<ZipEntry> entries, ReadZipDirectory(data, size, file));
  std::map<std::string_view, const ZipEntry*> by_name;
  for (const ZipEntry& entry : entries) by_name[entry.name] = &entry;
  MG_ASSIGN_OR_RETURN(std::string prefix, FindPrefix(entries, file));

  if (auto it = by_name.find(prefix + "byteorder"); it != by_name.end()) {
    MG_ASSIGN_OR_RETURN(std::string_view order, StoredBytes(data, *it->second, file));
    if (order != "little") {
      return UnimplementedError(file + ": byte order '" + std::string(order.substr(0, 16)) +
                                "' is not supported");
    }
  }
  MG_ASSIGN_OR_RETURN(std::string_view pickle,
                      StoredBytes(data, *by_name.at(prefix + "data.pkl"), file));
  Result<PickleGraph> graph = UnpickleTorch(pickle);
  if (!graph.ok()) return Error(graph.status(), file + ": " + prefix + "data.pkl");
  MG_ASSIGN_OR_RETURN(const PickleObject* state_dict, FindStateDict(*graph, file));

  std::vector<TensorRecord> records;
  for (size_t index = 0; index + 1 < state_dict->items.size(); index += 2) {
    const PickleObject& key = graph->objects[state_dict->items[index]];
    const PickleObject& value = graph->objects[state_dict->items[index + 1]];
    if (value.kind != PickleKind::kTensor) continue;
    if (key.kind != PickleKind::kString) {
      return CorruptionError(file + ": a tensor is stored under a key that is not a string");
    }
    const PickleTensor& tensor = graph->tensors[static_cast<size_t>(value.integer)];
    const PickleStorage& storage = graph->storages[tensor.storage];
    auto it = by_name.find(prefix + "data/" + storage.key);
    if (it == by_name.end()) {
      return CorruptionError(file + ": tensor '" + key.text + "' needs storage record '" + prefix +
                             "data/" + storage.key + "', which is missing");
    }
    MG_ASSIGN_OR_RETURN(std::string_view bytes, StoredBytes(data, *it->second, file));
    uint64_t storage_bytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(storage.numel),
                               uint64_t{DTypeSize(storage.dtype)}, &storage_bytes) ||
        storage_bytes != bytes.size()) {
      return CorruptionError(file + ": storage '" + storage.key + "' holds " +
                             std::to_string(bytes.size()) + " bytes, but its header says " +
                             std::to_string(storage.numel) + " elements of " +
                             std::string(DTypeName(storage.dtype)));
    }
    uint64_t begin = 0;
    uint64_t length = 0;
    Status view = CheckView(tensor, storage, key.text, &begin, &length);
    if (!view.ok()) return Error(view, file);
    TensorRecord record;
    record.name = key.text;
    record.dtype = storage.dtype;
    record.shape = tensor.size;
    record.data = reinterpret_cast<const uint8_t*>(bytes.data()) + begin;
    record.size_bytes = static_cast<size_t>(length);
    record.file = file;
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace mg::model
