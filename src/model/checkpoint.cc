#include "model/checkpoint.h"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <utility>

#include "base/file.h"
#include "model/mapped_file.h"
#include "model/safetensors.h"
#include "model/shard_index.h"
#include "model/torch_zip.h"

namespace mg::model {
namespace {

static_assert(std::endian::native == std::endian::little,
              "checkpoint formats are little-endian and viewed in place");

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Result<Checkpoint> Checkpoint::OpenFolder(const std::string& dir) {
  static constexpr const char* kSingleFiles[] = {"model.safetensors", "pytorch_model.bin"};
  static constexpr const char* kIndexes[] = {"model.safetensors.index.json",
                                             "pytorch_model.bin.index.json"};
  for (int format = 0; format < 2; ++format) {
    const std::string single = JoinPath(dir, kSingleFiles[format]);
    if (FileExists(single)) return OpenFile(single);
    const std::string index = JoinPath(dir, kIndexes[format]);
    if (FileExists(index)) return OpenSharded(index);
  }
  return NotFoundError(dir + ": no model weights (looked for model.safetensors, " +
                       "model.safetensors.index.json, pytorch_model.bin, " +
                       "pytorch_model.bin.index.json)");
}

Result<Checkpoint> Checkpoint::OpenFile(const std::string& path) {
  Checkpoint checkpoint;
  MG_RETURN_IF_ERROR(checkpoint.AddFile(path));
  return checkpoint;
}

Result<Checkpoint> Checkpoint::FromSafetensorsBuffer(std::shared_ptr<const std::string> bytes,
                                                     std::string name) {
  if (bytes == nullptr) return InvalidArgumentError(name + ": no safetensors bytes");
  MG_ASSIGN_OR_RETURN(
      SafetensorsContents contents,
      ParseSafetensors(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), name));
  Checkpoint checkpoint;
  MG_RETURN_IF_ERROR(
      checkpoint.AddTensors(std::move(bytes), std::move(contents.tensors), contents.metadata));
  return checkpoint;
}

Result<Checkpoint> Checkpoint::FromSafetensorsMemory(std::shared_ptr<const void> owner,
                                                     std::string_view bytes, std::string name) {
  if (owner == nullptr) return InvalidArgumentError(name + ": no safetensors bytes");
  MG_ASSIGN_OR_RETURN(
      SafetensorsContents contents,
      ParseSafetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name));
  Checkpoint checkpoint;
  MG_RETURN_IF_ERROR(
      checkpoint.AddTensors(std::move(owner), std::move(contents.tensors), contents.metadata));
  return checkpoint;
}

Result<Checkpoint> Checkpoint::OpenSharded(const std::string& index_path) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path));
  MG_ASSIGN_OR_RETURN(ShardIndex index, ParseShardIndex(text, index_path));
  const std::string dir = index_path.substr(0, index_path.find_last_of('/') + 1);
  Checkpoint checkpoint;
  for (const std::string& shard : index.shards) {
    const std::string path = JoinPath(dir, shard);
    if (!FileExists(path)) {
      return NotFoundError(index_path + ": shard '" + shard + "' is missing");
    }
    MG_RETURN_IF_ERROR(checkpoint.AddFile(path));
  }
  for (const auto& [name, shard] : index.weight_map) {
    const TensorRecord* record = checkpoint.Find(name);
    if (record == nullptr || record->file != JoinPath(dir, shard)) {
      return CorruptionError(index_path + ": tensor '" + name + "' is listed in shard '" + shard +
                             "' but absent from it");
    }
  }
  return checkpoint;
}

Status Checkpoint::AddFile(const std::string& path) {
  MG_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  std::shared_ptr<const MappedFile> owner = std::move(file);
  mapped_ranges_.emplace_back(owner->data(), owner->size());
  if (EndsWith(path, ".safetensors")) {
    MG_ASSIGN_OR_RETURN(SafetensorsContents contents,
                        ParseSafetensors(owner->data(), owner->size(), path));
    return AddTensors(std::move(owner), std::move(contents.tensors), contents.metadata);
  }
  MG_ASSIGN_OR_RETURN(std::vector<TensorRecord> tensors,
                      ParseTorchCheckpoint(owner->data(), owner->size(), path));
  return AddTensors(std::move(owner), std::move(tensors), {});
}

Status Checkpoint::AddTensors(std::shared_ptr<const void> owner, std::vector<TensorRecord> tensors,
                              const std::map<std::string, std::string>& metadata) {
  for (TensorRecord& record : tensors) {
    if (auto it = index_.find(record.name); it != index_.end()) {
      return CorruptionError(record.file + ": tensor '" + record.name + "' is also stored in " +
                             tensors_[it->second].file);
    }
    index_.emplace(record.name, tensors_.size());
    tensors_.push_back(std::move(record));
  }
  for (const auto& [key, value] : metadata) metadata_.emplace(key, value);
  owners_.push_back(std::move(owner));
  return Status::Ok();
}

Status Checkpoint::Append(Checkpoint other) {
  for (auto& owner : other.owners_) owners_.push_back(std::move(owner));
  for (const auto& range : other.mapped_ranges_) mapped_ranges_.push_back(range);
  other.owners_.clear();
  return AddTensors(nullptr, std::move(other.tensors_), other.metadata_);
}

const TensorRecord* Checkpoint::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status Checkpoint::ReadF32(const TensorRecord& record, float* out) const {
  const DType dtype = record.dtype;
  if (dtype == DType::kI8) return ReadQuantized(record, out);
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16 &&
      dtype != DType::kF64) {
    return InvalidArgumentError(record.file + ": tensor '" + record.name + "' has dtype " +
                                std::string(DTypeName(dtype)) +
                                ", which cannot be read as float (F32, F16, BF16 or F64 only)");
  }
  if (record.size_bytes == 0) return Status::Ok();
  MG_CHECK(ConvertToF32(dtype, record.data, record.numel(), out));
  return Status::Ok();
}

Status Checkpoint::ReadQuantized(const TensorRecord& record, float* out) const {
  const std::string scale_name = record.name + std::string(kScaleSuffix);
  const TensorRecord* scale = Find(scale_name);
  auto bad = [&](const std::string& why) {
    return CorruptionError(record.file + ": tensor '" + record.name + "' is stored as I8 " + why);
  };
  if (scale == nullptr) return bad("without its scales ('" + scale_name + "')");
  if (record.shape.size() != 2) return bad("but is not a matrix: " + ShapeText(record.shape));
  if (scale->dtype != DType::kF32 || scale->shape != std::vector<int64_t>{record.shape[0]})
    return bad("and its scales '" + scale_name + "' are not F32 [" +
               std::to_string(record.shape[0]) + "]");
  const int64_t rows = record.shape[0], cols = record.shape[1];
  std::vector<float> scales(static_cast<size_t>(rows));
  if (rows > 0) std::memcpy(scales.data(), scale->data, scale->size_bytes);
  const auto* codes = reinterpret_cast<const int8_t*>(record.data);
  for (int64_t r = 0; r < rows; ++r) {
    if (!std::isfinite(scales[r])) return bad("with a scale that is not finite");
    // Float products: the codes and scales kernels::QuantizeRowsS8 made
    // quantise back from these bit for bit.
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = static_cast<float>(codes[r * cols + c]) * scales[r];
  }
  return Status::Ok();
}

void Checkpoint::DropPages(const TensorRecord& record) const {
  const auto begin = reinterpret_cast<uintptr_t>(record.data);
  const uintptr_t end = begin + record.size_bytes;
  for (const auto& [base, size] : mapped_ranges_) {
    const auto map_begin = reinterpret_cast<uintptr_t>(base);
    if (begin < map_begin || end > map_begin + size) continue;
    // Only whole pages inside the tensor: neighbours may still be needed.
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t first = (begin + page - 1) / page * page;
    const uintptr_t last = end / page * page;
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    return;
  }
}

Result<std::vector<float>> Checkpoint::ReadF32(const TensorRecord& record) const {
  std::vector<float> values(record.numel());
  MG_RETURN_IF_ERROR(ReadF32(record, values.data()));
  return values;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace mg::model
