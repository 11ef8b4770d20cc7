#include "model/stored_precision.h"

#include <deque>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "kernels/quantize.h"
#include "model/safetensors_writer.h"

namespace mg::model {

Result<std::string> SerializeInPrecision(const Checkpoint& checkpoint, const Family& family,
                                         kernels::Precision precision) {
  if (precision == kernels::Precision::kF32)
    return InvalidArgumentError("weights are stored in reduced precision only (bf16 or int8)");
  const bool int8 = precision == kernels::Precision::kInt8;
  std::vector<TensorToWrite> tensors;
  // The converted tensors' bytes, kept until the image is written (a deque
  // never moves them); the F32 values are freed tensor by tensor.
  std::deque<std::string> converted;
  std::deque<std::vector<float>> scales;
  std::deque<std::string> scale_names;
  for (const TensorRecord& record : checkpoint.tensors()) {
    TensorToWrite tensor;
    tensor.name = record.name;
    tensor.dtype = record.dtype;
    tensor.shape = record.shape;
    tensor.raw = std::string_view(reinterpret_cast<const char*>(record.data), record.size_bytes);
    const bool linear = family.IsLayerLinearWeight(record.name) && record.shape.size() == 2;
    const bool embeddings = family.IsWordEmbeddings(record.name);
    if (record.dtype == DType::kI8 && !int8) {
      return InvalidArgumentError(record.file + ": '" + record.name +
                                  "' is already stored as int8; store bf16 from the F32 weights");
    }
    if ((!linear && !embeddings) || record.dtype == DType::kI8 ||
        (record.dtype == DType::kBF16 && !(int8 && linear))) {
      tensors.push_back(std::move(tensor));  // kept, or already in the precision
      continue;
    }
    Result<std::vector<float>> values = checkpoint.ReadF32(record);
    if (!values.ok()) return values.status();
    const std::vector<float>& w = *values;
    std::string& bytes = converted.emplace_back();
    if (!(int8 && linear)) {
      bytes.resize(w.size() * sizeof(uint16_t));
      for (size_t i = 0; i < w.size(); ++i) {
        const uint16_t bits = F32ToBf16(w[i]);  // little-endian, as safetensors stores it
        bytes[2 * i] = static_cast<char>(bits & 0xFF);
        bytes[2 * i + 1] = static_cast<char>(bits >> 8);
      }
      tensor.dtype = DType::kBF16;
      tensor.raw = bytes;
      tensors.push_back(std::move(tensor));
      continue;
    }
    const int64_t rows = record.shape[0], cols = record.shape[1];
    bytes.resize(w.size());
    std::vector<float>& s = scales.emplace_back(static_cast<size_t>(rows));
    kernels::QuantizeRowsS8(w.data(), rows, cols, reinterpret_cast<int8_t*>(bytes.data()),
                            s.data());
    tensor.dtype = DType::kI8;
    tensor.raw = bytes;
    tensors.push_back(std::move(tensor));
    TensorToWrite scale;
    scale.name = scale_names.emplace_back(record.name + std::string(kScaleSuffix));
    scale.dtype = DType::kF32;
    scale.shape = {rows};
    scale.f32 = s.data();
    tensors.push_back(std::move(scale));
  }
  std::map<std::string, std::string> metadata = checkpoint.metadata();
  metadata[kStoredPrecisionKey] = std::string(kernels::PrecisionName(precision));
  return SerializeSafetensors(tensors, metadata);
}

std::optional<kernels::Precision> StoredPrecisionOf(const Checkpoint& checkpoint) {
  const auto it = checkpoint.metadata().find(kStoredPrecisionKey);
  if (it == checkpoint.metadata().end()) return std::nullopt;
  Result<kernels::Precision> precision = kernels::ParsePrecision(it->second);
  if (!precision.ok() || *precision == kernels::Precision::kF32) return std::nullopt;
  return *precision;
}

Result<std::string> ConfigForInt8Weights(std::string_view config_json, const std::string& where) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(config_json).WithContext(where));
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return InvalidArgumentError(where + " is not a JSON object");
  config["quantization_config"] = {
      {"quant_method", "modelgate-int8"},
      {"weights", "int8 codes per output channel, symmetric; the scales in <name>" +
                      std::string(kScaleSuffix) + " (F32); value = code * scale"},
      {"word_embeddings", "bf16"},
  };
  return config.dump(2) + "\n";
}

}  // namespace mg::model
