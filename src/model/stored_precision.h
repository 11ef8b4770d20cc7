// Weights stored in the precision a model was validated in (`release …
// --dtype int8|bf16 --validate DATA`, release/precision_report.h), so that
// the release is smaller than the F32 weights:
//   int8  the weight of every linear layer inside the encoder layers
//         (Family::linear_modules) as I8 codes with one F32 scale per output
//         row (kernels::QuantizeRowsS8; model/checkpoint.h, kScaleSuffix),
//         and the word-embedding table as BF16: about 0.28x the F32 bytes
//         of BERT-base;
//   bf16  the same matrices and the word-embedding table as BF16: about
//         0.5x.
// Every other tensor (position and type embeddings, LayerNorms, biases, the
// classification head) keeps its stored dtype, because the engine runs those
// in F32. The engine loading the stored weights in the precision they were
// stored for builds the very model it builds from the F32 weights, bit for
// bit: the int8 codes and scales quantise back to themselves, the bf16
// values round to themselves. Loaded in F32 they are the quantised values.
//
// Pure function of its inputs; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "kernels/packed_linear.h"
#include "model/checkpoint.h"
#include "model/family.h"

namespace mg::model {

// The safetensors "__metadata__" key naming the stored precision.
inline constexpr char kStoredPrecisionKey[] = "modelgate.precision";

// A safetensors image of `checkpoint` with the family's linear layers and
// word embeddings stored in `precision` (kBf16 or kInt8), tensors in the
// checkpoint's order, the checkpoint's metadata plus kStoredPrecisionKey.
// Weights already stored as I8 stay as they are under kInt8 and are an
// error under kBf16.
Result<std::string> SerializeInPrecision(const Checkpoint& checkpoint, const Family& family,
                                         kernels::Precision precision);

// The precision kStoredPrecisionKey names in the checkpoint's metadata, or
// nullopt (F32 or unknown).
std::optional<kernels::Precision> StoredPrecisionOf(const Checkpoint& checkpoint);

// config.json's text (`where` names it) for weights stored in int8, with a
// "quantization_config" ({"quant_method": "modelgate-int8", ...}) that
// describes the layout, so that a loader that does not know it (Hugging Face
// transformers) refuses the weights by name instead of reading codes as
// values. bf16 weights need none: they are ordinary BF16 tensors.
Result<std::string> ConfigForInt8Weights(std::string_view config_json, const std::string& where);

}  // namespace mg::model
