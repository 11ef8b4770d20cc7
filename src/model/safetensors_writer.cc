#include "model/safetensors_writer.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "model/safetensors.h"

namespace mg::model {
namespace {

// Appends `tensor`'s bytes in its stored dtype to `out`.
Status AppendData(const TensorToWrite& tensor, size_t numel, std::string* out) {
  if (tensor.f32 == nullptr) {
    out->append(tensor.raw);
    return Status::Ok();
  }
  switch (tensor.dtype) {
    case DType::kF32:
      out->append(reinterpret_cast<const char*>(tensor.f32), numel * sizeof(float));
      return Status::Ok();
    case DType::kF16:
    case DType::kBF16:
      for (size_t index = 0; index < numel; ++index) {
        const uint16_t bits = tensor.dtype == DType::kF16 ? F32ToF16(tensor.f32[index])
                                                          : F32ToBf16(tensor.f32[index]);
        const char bytes[2] = {static_cast<char>(bits & 0xFF), static_cast<char>(bits >> 8)};
        out->append(bytes, 2);
      }
      return Status::Ok();
    default:
      return InvalidArgumentError("tensor '" + tensor.name + "': float values can be stored as " +
                                  "F32, F16 or BF16, not " + std::string(DTypeName(tensor.dtype)));
  }
}

}  // namespace

Result<std::string> SerializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::string data;
  for (const TensorToWrite& tensor : tensors) {
    if (tensor.name == "__metadata__" || !names.insert(tensor.name).second) {
      return InvalidArgumentError("tensor name '" + tensor.name + "' is reserved or repeated");
    }
    if (tensor.f32 != nullptr && !tensor.raw.empty()) {
      return InvalidArgumentError("tensor '" + tensor.name + "': give f32 or raw, not both");
    }
    uint64_t numel = 0;
    if (!ShapeNumel(tensor.shape, &numel)) {
      return InvalidArgumentError("tensor '" + tensor.name + "': invalid shape");
    }
    const uint64_t bytes = numel * DTypeSize(tensor.dtype);
    if (tensor.f32 == nullptr && tensor.raw.size() != bytes) {
      return InvalidArgumentError("tensor '" + tensor.name +
                                  "': " + std::to_string(tensor.raw.size()) +
                                  " raw bytes for a shape of " + std::to_string(bytes) + " bytes");
    }
    const size_t begin = data.size();
    MG_RETURN_IF_ERROR(AppendData(tensor, numel, &data));
    header[tensor.name] = {{"dtype", std::string(DTypeName(tensor.dtype))},
                           {"shape", tensor.shape},
                           {"data_offsets", {begin, data.size()}}};
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data area starts 8-byte aligned, as the reference writer does.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  std::string image(8, '\0');
  const uint64_t header_size = header_text.size();
  for (int byte = 0; byte < 8; ++byte) image[byte] = static_cast<char>(header_size >> (8 * byte));
  image += header_text;
  image += data;
  return image;
}

Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  MG_ASSIGN_OR_RETURN(std::string image, SerializeSafetensors(tensors, metadata));
  return WriteFileAtomic(path, image).WithContext("writing " + path);
}

}  // namespace mg::model
