// The precision a release was validated in: `release … --dtype int8|bf16
// --validate DATA` runs the model in F32 and in that precision on the
// vendor's data and stores the comparison as precision.json inside the
// release, where the release's signature covers it (the open manifest, the
// bundle's signature, the hybrid base's manifest). Loading the release runs
// it in that precision unless --dtype says otherwise; `verify` and the
// server's /info show the report. The release stores its weights in that
// precision (model/stored_precision.h), so it is smaller than the F32
// model. Format: docs/release-formats.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kernels/packed_linear.h"

namespace mg::release {

inline constexpr char kPrecisionFile[] = "precision.json";
inline constexpr char kPrecisionFormat[] = "modelgate-precision";

struct PrecisionReport {
  kernels::Precision dtype = kernels::Precision::kF32;
  std::string data;         // the validation file's name
  std::string data_sha256;  // and its SHA-256
  int64_t examples = 0;
  // `modelgate eval --dtype DTYPE --compare f32` on the data: both runs'
  // metrics, "agreement", "accuracy_delta" and/or "cosine".
  std::string comparison_json;
};

// precision.json's bytes (one JSON object and a newline).
std::string PrecisionReportToJson(const PrecisionReport& report);
// Strict: the format name, version 1, a known dtype other than f32, every
// field present; errors name `where`.
Result<PrecisionReport> ParsePrecisionReport(std::string_view text, const std::string& where);
// One line for people: "int8, validated on DATA (N examples): accuracy
// 0.9893 (f32 0.9878), agreement 99.80 %, embedding cosine mean 0.9999".
std::string DescribePrecisionReport(const PrecisionReport& report);

// The precision `model_dir`'s precision.json names, or nullopt without one.
Result<std::optional<kernels::Precision>> ValidatedPrecisionOf(const std::string& model_dir);

// The model.safetensors image `weights` with its weights stored in
// `precision` (model/stored_precision.h) for the family of `config_json`;
// `where` names the weights in messages. Adds a note with both sizes.
Result<std::string> StoreWeightsInPrecision(std::string_view weights, std::string_view config_json,
                                            const std::string& where, kernels::Precision precision,
                                            std::vector<std::string>* notes);

}  // namespace mg::release
