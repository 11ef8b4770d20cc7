// --dtype: the precision of the encoder's linear layers (f32, bf16 or int8;
// model::LoadOptions), shared by classify, embed, serve, bench and eval.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/modelgate/cli_error.h"
#include "kernels/packed_linear.h"
#include "model/model.h"

namespace mg::cli {

inline constexpr const char* kDtypeHelp =
    "Precision of the encoder's linear layers: f32, bf16 (bfloat16 weights and inputs, F32 "
    "sums) or int8 (int8 weights per output channel, inputs quantised per call); below f32 "
    "the word-embedding table is held in bf16; LayerNorm, attention and the head stay F32";

// Registers --dtype on `cmd`, writing the (checked) name to `dtype`.
inline CLI::Option* AddDtypeOption(CLI::App* cmd, std::string* dtype,
                                   const std::string& name = "--dtype",
                                   const char* help = kDtypeHelp) {
  return cmd->add_option(name, *dtype, help)
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) {
            const Result<kernels::Precision> parsed = kernels::ParsePrecision(value);
            return parsed.ok() ? std::string() : parsed.status().message();
          },
          "f32|bf16|int8", "dtype"));
}

// Help for commands that load releases, where --dtype may be left out.
inline constexpr const char* kSourceDtypeHelp =
    "Precision of the encoder's linear layers: f32, bf16 (bfloat16 weights and inputs, F32 "
    "sums) or int8 (int8 weights per output channel, inputs quantised per call); below f32 "
    "the word-embedding table is held in bf16; LayerNorm, attention and the head stay F32. "
    "Default: the precision a release was validated in (release --dtype --validate), else f32";

// `dtype` empty: F32.
inline model::LoadOptions LoadOptionsFor(const std::string& dtype) {
  model::LoadOptions options;
  if (!dtype.empty()) options.precision = ValueOrThrow(kernels::ParsePrecision(dtype));
  return options;
}

// A note on standard error when the CPU had no kernel for the precision
// asked and the layers run in F32.
inline void NoteFallback(const model::Model& model, const model::LoadOptions& asked) {
  if (model.precision() == asked.precision) return;
  std::fprintf(stderr, "note: oneDNN has no %s kernels on this CPU; running in %s\n",
               std::string(kernels::PrecisionName(asked.precision)).c_str(),
               std::string(kernels::PrecisionName(model.precision())).c_str());
}

}  // namespace mg::cli
