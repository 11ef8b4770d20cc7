// Test helpers for the checkpoint readers: builders for pickles, zip
// archives and PyTorch-style checkpoints, byte helpers and a temporary
// directory. Test-only; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mg::model::testing {

// Appends pickle opcodes. Op() writes one raw opcode byte.
class PickleBuilder {
 public:
  PickleBuilder& Op(uint8_t opcode);
  PickleBuilder& Raw(std::string_view bytes);
  PickleBuilder& Proto(int version);
  PickleBuilder& Global(std::string_view module, std::string_view name);  // GLOBAL
  PickleBuilder& Unicode(std::string_view text);                          // BINUNICODE
  PickleBuilder& Int(int64_t value);   // BININT1 / BININT2 / BININT / LONG1
  PickleBuilder& Put(uint32_t index);  // BINPUT / LONG_BINPUT
  PickleBuilder& Get(uint32_t index);  // BINGET / LONG_BINGET
  PickleBuilder& IntTuple(const std::vector<int64_t>& values);  // MARK … TUPLE
  std::string bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// One tensor of a state dict, as torch.save pickles it.
struct TensorSpec {
  std::string name;
  std::string storage_class = "FloatStorage";
  std::string key = "0";
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> size;
  std::vector<int64_t> stride;  // empty: contiguous
};

// The pickle torch.save (protocol 2) writes for {name: tensor, …}.
std::string StateDictPickle(const std::vector<TensorSpec>& tensors);

struct ZipItem {
  std::string name;
  std::string data;
  uint16_t method = 0;  // 0 = stored
};

// A zip archive like PyTorch's: data 64-byte aligned through an extra field.
std::string BuildZip(const std::vector<ZipItem>& items);

// A PyTorch checkpoint: <prefix>/data.pkl, <prefix>/data/<key>, <prefix>/version.
std::string TorchZip(const std::string& pickle, const std::map<std::string, std::string>& storages,
                     const std::string& prefix = "archive");

std::string FloatBytes(const std::vector<float>& values);
std::string Int64Bytes(const std::vector<int64_t>& values);
// Little-endian patches into an image.
void PatchLe(std::string* image, size_t offset, uint64_t value, int width);
uint64_t ReadLe(const std::string& image, size_t offset, int width);

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  void Write(const std::string& name, std::string_view contents) const;

 private:
  std::string path_;
};

}  // namespace mg::model::testing
