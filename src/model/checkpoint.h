// Checkpoint: the stored tensors of a model, read from any storage a user
// may bring, viewed in place.
//
// Sources: a safetensors file (memory-mapped), a sharded safetensors folder
// (model.safetensors.index.json), a PyTorch zip checkpoint (pytorch_model.bin,
// torch.save since 1.6, read with a restricted unpickler that never executes
// anything), its sharded form (pytorch_model.bin.index.json), or safetensors
// bytes already in memory. Every input is validated before a tensor is
// exposed; a bad file yields one Status naming the file and the problem.
//
// Ownership: a Checkpoint owns its mappings and buffers; every
// TensorRecord::data points into them and lives as long as the Checkpoint
// (moving a Checkpoint keeps the pointers valid). Immutable after opening, so
// any number of threads may read it at once. Move-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"

namespace mg::model {

// One stored tensor. `data` may be unaligned: read it with memcpy or
// Checkpoint::ReadF32, never by casting to a wider type.
struct TensorRecord {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // owned by the Checkpoint
  size_t size_bytes = 0;          // == product(shape) * DTypeSize(dtype), checked
  std::string file;               // the file it came from, for messages

  size_t numel() const { return dtype_size() == 0 ? 0 : size_bytes / dtype_size(); }
  size_t dtype_size() const { return DTypeSize(dtype); }
};

// A weight stored quantised (a release in int8, model/stored_precision.h):
// I8 codes [rows, cols] under the weight's own name, and one F32 scale per
// row under the name followed by this suffix. ReadF32 widens it to
// codes * scale.
inline constexpr std::string_view kScaleSuffix = "_scale";

// "[3, 768]": a shape for messages.
std::string ShapeText(const std::vector<int64_t>& shape);

class Checkpoint {
 public:
  // A model folder holding, in this order of preference: model.safetensors,
  // model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json.
  static Result<Checkpoint> OpenFolder(const std::string& dir);
  // One file: safetensors (by its .safetensors name) or a PyTorch zip
  // checkpoint (recognised by content, whatever its name).
  static Result<Checkpoint> OpenFile(const std::string& path);
  // Safetensors bytes already in memory (e.g. decrypted from a bundle).
  // `name` stands for the file in messages.
  static Result<Checkpoint> FromSafetensorsBuffer(std::shared_ptr<const std::string> bytes,
                                                  std::string name);
  // The same for `bytes` that `owner` keeps alive (e.g. a locked buffer that
  // is wiped when released).
  static Result<Checkpoint> FromSafetensorsMemory(std::shared_ptr<const void> owner,
                                                  std::string_view bytes, std::string name);

  // Moves every tensor of `other` into this checkpoint (e.g. a model's head
  // kept apart from its encoder); fails on a name both hold.
  Status Append(Checkpoint other);

  Checkpoint(Checkpoint&&) noexcept = default;
  Checkpoint& operator=(Checkpoint&&) noexcept = default;
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // In file order (shards in index order).
  const std::vector<TensorRecord>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorRecord* Find(std::string_view name) const;
  // The safetensors "__metadata__" map (merged over shards); empty for .bin.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Converts `record` (F32, F16, BF16 or F64, or I8 with its kScaleSuffix
  // tensor) to float into `out`, which must hold record.numel() floats.
  // Other dtypes fail, naming file and tensor.
  Status ReadF32(const TensorRecord& record, float* out) const;
  // The same, into a new vector.
  Result<std::vector<float>> ReadF32(const TensorRecord& record) const;

  // Tells the kernel that a memory-mapped tensor's pages are no longer
  // needed, so they stop counting as resident; reading the tensor again
  // pages it back in from the file. No effect on in-memory buffers.
  void DropPages(const TensorRecord& record) const;

 private:
  Checkpoint() = default;

  // Opens one file (by its name: .safetensors, else a PyTorch checkpoint)
  // and appends its tensors.
  Status AddFile(const std::string& path);
  // Appends tensors whose bytes `owner` keeps alive; rejects repeated names.
  Status AddTensors(std::shared_ptr<const void> owner, std::vector<TensorRecord> tensors,
                    const std::map<std::string, std::string>& metadata);
  static Result<Checkpoint> OpenSharded(const std::string& index_path);
  // ReadF32 of an I8 weight and its scales.
  Status ReadQuantized(const TensorRecord& record, float* out) const;

  std::vector<std::shared_ptr<const void>> owners_;
  std::vector<std::pair<const uint8_t*, size_t>> mapped_ranges_;  // file mappings only
  std::vector<TensorRecord> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace mg::model
