#include "model/model_io_test_util.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace mg::model::testing {
namespace {

void AppendLe(std::string* out, uint64_t value, int width) {
  for (int byte = 0; byte < width; ++byte) out->push_back(static_cast<char>(value >> (8 * byte)));
}

}  // namespace

PickleBuilder& PickleBuilder::Op(uint8_t opcode) {
  bytes_.push_back(static_cast<char>(opcode));
  return *this;
}

PickleBuilder& PickleBuilder::Raw(std::string_view bytes) {
  bytes_.append(bytes);
  return *this;
}

PickleBuilder& PickleBuilder::Proto(int version) {
  Op(0x80);
  bytes_.push_back(static_cast<char>(version));
  return *this;
}

PickleBuilder& PickleBuilder::Global(std::string_view module, std::string_view name) {
  Op('c');
  bytes_.append(module).append("\n").append(name).append("\n");
  return *this;
}

PickleBuilder& PickleBuilder::Unicode(std::string_view text) {
  Op('X');
  AppendLe(&bytes_, text.size(), 4);
  bytes_.append(text);
  return *this;
}

PickleBuilder& PickleBuilder::Int(int64_t value) {
  if (value >= 0 && value < 256) {
    Op('K');
    AppendLe(&bytes_, static_cast<uint64_t>(value), 1);
  } else if (value >= 0 && value < 65536) {
    Op('M');
    AppendLe(&bytes_, static_cast<uint64_t>(value), 2);
  } else if (value >= INT32_MIN && value <= INT32_MAX) {
    Op('J');
    AppendLe(&bytes_, static_cast<uint64_t>(value), 4);
  } else {
    Op(0x8a);
    bytes_.push_back(8);
    AppendLe(&bytes_, static_cast<uint64_t>(value), 8);
  }
  return *this;
}

PickleBuilder& PickleBuilder::Put(uint32_t index) {
  Op(index < 256 ? 'q' : 'r');
  AppendLe(&bytes_, index, index < 256 ? 1 : 4);
  return *this;
}

PickleBuilder& PickleBuilder::Get(uint32_t index) {
  Op(index < 256 ? 'h' : 'j');
  AppendLe(&bytes_, index, index < 256 ? 1 : 4);
  return *this;
}

PickleBuilder& PickleBuilder::IntTuple(const std::vector<int64_t>& values) {
  Op('(');
  for (int64_t value : values) Int(value);
  return Op('t');
}

std::string StateDictPickle(const std::vector<TensorSpec>& tensors) {
  PickleBuilder pickle;
  pickle.Proto(2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  for (const TensorSpec& tensor : tensors) {
    std::vector<int64_t> stride = tensor.stride;
    if (stride.empty()) {
      stride.assign(tensor.size.size(), 1);
      for (size_t dim = tensor.size.size(); dim-- > 1;) {
        stride[dim - 1] = stride[dim] * tensor.size[dim];
      }
    }
    pickle.Unicode(tensor.name).Global("torch._utils", "_rebuild_tensor_v2").Op('(');
    pickle.Op('(').Unicode("storage").Global("torch", tensor.storage_class).Unicode(tensor.key);
    pickle.Unicode("cpu").Int(tensor.storage_numel).Op('t').Op('Q');
    pickle.Int(tensor.offset).IntTuple(tensor.size).IntTuple(stride).Op(0x89);
    pickle.Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
  }
  pickle.Op('u').Op('.');
  return pickle.bytes();
}

std::string BuildZip(const std::vector<ZipItem>& items) {
  std::string out;
  std::string directory;
  for (const ZipItem& item : items) {
    const size_t local = out.size();
    const size_t unpadded = local + 30 + item.name.size();
    const size_t padding = (64 - (unpadded + 4) % 64) % 64 + 4;  // "FB" extra field
    AppendLe(&out, 0x04034b50, 4);
    AppendLe(&out, 20, 2);
    AppendLe(&out, 0, 2);
    AppendLe(&out, item.method, 2);
    AppendLe(&out, 0, 4);  // time, date
    AppendLe(&out, 0, 4);  // crc (not checked by the reader)
    AppendLe(&out, item.data.size(), 4);
    AppendLe(&out, item.data.size(), 4);
    AppendLe(&out, item.name.size(), 2);
    AppendLe(&out, padding, 2);
    out += item.name;
    out += "FB";
    AppendLe(&out, padding - 4, 2);
    out.append(padding - 4, 'Z');
    out += item.data;

    AppendLe(&directory, 0x02014b50, 4);
    AppendLe(&directory, 20, 2);
    AppendLe(&directory, 20, 2);
    AppendLe(&directory, 0, 2);
    AppendLe(&directory, item.method, 2);
    AppendLe(&directory, 0, 4);
    AppendLe(&directory, 0, 4);
    AppendLe(&directory, item.data.size(), 4);
    AppendLe(&directory, item.data.size(), 4);
    AppendLe(&directory, item.name.size(), 2);
    AppendLe(&directory, 0, 2);  // extra
    AppendLe(&directory, 0, 2);  // comment
    AppendLe(&directory, 0, 2);  // disk
    AppendLe(&directory, 0, 2);  // internal attributes
    AppendLe(&directory, 0, 4);  // external attributes
    AppendLe(&directory, local, 4);
    directory += item.name;
  }
  const size_t directory_offset = out.size();
  out += directory;
  AppendLe(&out, 0x06054b50, 4);
  AppendLe(&out, 0, 4);
  AppendLe(&out, items.size(), 2);
  AppendLe(&out, items.size(), 2);
  AppendLe(&out, directory.size(), 4);
  AppendLe(&out, directory_offset, 4);
  AppendLe(&out, 0, 2);
  return out;
}

std::string TorchZip(const std::string& pickle, const std::map<std::string, std::string>& storages,
                     const std::string& prefix) {
  std::vector<ZipItem> items = {{prefix + "/data.pkl", pickle}};
  for (const auto& [key, bytes] : storages) items.push_back({prefix + "/data/" + key, bytes});
  items.push_back({prefix + "/version", "3\n"});
  return BuildZip(items);
}

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::string Int64Bytes(const std::vector<int64_t>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
}

void PatchLe(std::string* image, size_t offset, uint64_t value, int width) {
  for (int byte = 0; byte < width; ++byte) {
    (*image)[offset + byte] = static_cast<char>(value >> (8 * byte));
  }
}

uint64_t ReadLe(const std::string& image, size_t offset, int width) {
  uint64_t value = 0;
  for (int byte = width - 1; byte >= 0; --byte) {
    value = (value << 8) | static_cast<uint8_t>(image[offset + byte]);
  }
  return value;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "mg_model_io_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempDir::Write(const std::string& name, std::string_view contents) const {
  std::ofstream out(File(name), std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

}  // namespace mg::model::testing
