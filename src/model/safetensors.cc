#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/json_limits.h"

namespace mg::model {
namespace {

using nlohmann::json;

Status Corrupt(const std::string& file, const std::string& problem) {
  return CorruptionError(file + ": " + problem);
}

// Error messages show the parsed numbers, never the untrusted JSON itself.
std::string NumbersText(const std::vector<int64_t>& numbers) {
  std::string out = "[";
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0) out.append(", ");
    out.append(std::to_string(numbers[i]));
  }
  return out + "]";
}

struct Entry {
  TensorRecord record;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Result<Entry> ParseEntry(const std::string& name, const json& info, uint64_t data_size,
                         const std::string& file) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object()) return Corrupt(file, where + ": entry is not a JSON object");
  auto dtype_it = info.find("dtype");
  auto shape_it = info.find("shape");
  auto offsets_it = info.find("data_offsets");
  if (dtype_it == info.end() || !dtype_it->is_string()) {
    return Corrupt(file, where + ": missing or non-string \"dtype\"");
  }
  if (shape_it == info.end() || !shape_it->is_array()) {
    return Corrupt(file, where + ": missing or non-array \"shape\"");
  }
  if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return Corrupt(file, where + ": \"data_offsets\" must be an array [begin, end]");
  }
  Entry entry;
  entry.record.name = name;
  entry.record.file = file;
  const std::string& dtype_name = dtype_it->get_ref<const std::string&>();
  if (!ParseDTypeName(dtype_name, &entry.record.dtype)) {
    return UnimplementedError(file + ": " + where + " has unsupported dtype '" + dtype_name +
                              "' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
  }
  for (const json& dim : *shape_it) {
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t{INT64_MAX}) {
      return Corrupt(file, where + ": shape must hold non-negative integers");
    }
    entry.record.shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  for (const json& offset : *offsets_it) {
    if (!offset.is_number_unsigned()) {
      return Corrupt(file, where + ": data_offsets must be non-negative integers");
    }
  }
  entry.begin = (*offsets_it)[0].get<uint64_t>();
  entry.end = (*offsets_it)[1].get<uint64_t>();
  if (entry.begin > entry.end || entry.end > data_size) {
    return Corrupt(file, where + ": data_offsets [" + std::to_string(entry.begin) + ", " +
                             std::to_string(entry.end) + "] are outside the data area of " +
                             std::to_string(data_size) + " bytes");
  }
  uint64_t numel = 0;
  uint64_t bytes = 0;
  if (!ShapeNumel(entry.record.shape, &numel) ||
      __builtin_mul_overflow(numel, uint64_t{DTypeSize(entry.record.dtype)}, &bytes)) {
    return Corrupt(file, where + ": shape " + NumbersText(entry.record.shape) + " overflows");
  }
  if (bytes != entry.end - entry.begin) {
    return Corrupt(file, where + ": shape " + NumbersText(entry.record.shape) + " of " +
                             dtype_name + " needs " + std::to_string(bytes) +
                             " bytes but data_offsets span " +
                             std::to_string(entry.end - entry.begin));
  }
  entry.record.size_bytes = static_cast<size_t>(bytes);
  return entry;
}

Status ParseMetadata(const json& value, const std::string& file,
                     std::map<std::string, std::string>* metadata) {
  if (!value.is_object()) return Corrupt(file, "\"__metadata__\" is not a JSON object");
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      return Corrupt(file, "\"__metadata__\" value for '" + key + "' is not a string");
    }
    (*metadata)[key] = item.get<std::string>();
  }
  return Status::Ok();
}

}  // namespace

bool ShapeNumel(const std::vector<int64_t>& shape, uint64_t* numel) {
  uint64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return false;
    if (__builtin_mul_overflow(product, static_cast<uint64_t>(dim), &product)) return false;
  }
  *numel = product;
  return true;
}

Result<SafetensorsContents> ParseSafetensors(const uint8_t* data, size_t size,
                                             const std::string& file) {
  if (size < 8) {
    return Corrupt(file, "too short for a safetensors file (" + std::to_string(size) + " bytes)");
  }
  uint64_t header_size = 0;
  for (int byte = 7; byte >= 0; --byte) header_size = (header_size << 8) | data[byte];
  if (header_size > kMaxSafetensorsHeaderBytes) {
    return Corrupt(file, "header length " + std::to_string(header_size) + " exceeds the limit of " +
                             std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  }
  if (header_size > size - 8) {
    return Corrupt(file, "header length " + std::to_string(header_size) + " runs past the end (" +
                             std::to_string(size) + " bytes): truncated or not safetensors");
  }
  const char* header = reinterpret_cast<const char*>(data + 8);
  const Status depth = CheckJsonDepth(std::string_view(header, header_size));
  if (!depth.ok()) return Corrupt(file, "header refused: " + depth.message());
  json root = json::parse(header, header + header_size, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Corrupt(file, "header is not valid JSON");
  if (!root.is_object()) return Corrupt(file, "header is not a JSON object");

  const uint8_t* data_area = data + 8 + header_size;
  const uint64_t data_size = size - 8 - header_size;
  SafetensorsContents contents;
  std::vector<Entry> entries;
  for (const auto& [name, info] : root.items()) {
    if (name == "__metadata__") {
      MG_RETURN_IF_ERROR(ParseMetadata(info, file, &contents.metadata));
      continue;
    }
    MG_ASSIGN_OR_RETURN(Entry entry, ParseEntry(name, info, data_size, file));
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // The tensors must tile the data area: each starts where the previous ends.
  uint64_t expected_begin = 0;
  const std::string* previous = nullptr;
  for (Entry& entry : entries) {
    if (entry.begin < expected_begin) {
      return Corrupt(file, "tensor '" + entry.record.name + "' overlaps tensor '" + *previous +
                               "' in the data area");
    }
    if (entry.begin > expected_begin) {
      return Corrupt(file, "unindexed bytes [" + std::to_string(expected_begin) + ", " +
                               std::to_string(entry.begin) + ") before tensor '" +
                               entry.record.name + "' in the data area");
    }
    expected_begin = entry.end;
    previous = &entry.record.name;
  }
  if (expected_begin != data_size) {
    return Corrupt(
        file, std::to_string(data_size - expected_begin) + " trailing bytes after the last tensor");
  }
  for (Entry& entry : entries) {
    entry.record.data = data_area + entry.begin;
    contents.tensors.push_back(std::move(entry.record));
  }
  return contents;
}

}  // namespace mg::model
