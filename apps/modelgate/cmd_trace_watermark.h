// `modelgate trace --endpoint URL --watermark KEY`: tests a model served over
// HTTP (TEI's /info, /embed and /predict) — or, with --model DIR instead of
// --endpoint, a model folder run in this process — for the output watermark
// of KEY (release/watermark.h) and reports the statistic and its p-value.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace mg::cli {

struct TraceWatermarkArgs {
  std::string endpoint;
  std::string model;  // a suspect folder instead of --endpoint (trace's --model)
  std::string watermark_key;
  std::string api_key_env;  // environment variable holding the suspect's API key
  size_t probes = 200;      // embedding probes per set; label probes per trigger / 10
  uint64_t seed = 1;
  double alpha = 1e-6;  // detected when p < alpha
};

// --endpoint, --watermark, --api-key-env, --probes, --seed, --alpha.
void AddTraceWatermarkOptions(CLI::App* cmd, TraceWatermarkArgs* args);

// Prints one JSON line with the verdict; throws CliError (exit 1) when the
// mark is not detected, and on any failure to query the suspect.
void RunTraceWatermark(const TraceWatermarkArgs& args);

}  // namespace mg::cli
