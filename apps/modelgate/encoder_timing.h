// Timing the encoder of a loaded model on random token ids: the measurement
// behind `modelgate bench` and `modelgate cost`. Single-threaded caller; the
// encoder itself uses the GEMM threads set with kernels::SetThreads.
#pragma once

#include <cstdint>

#include "model/model.h"

namespace mg::cli {

struct EncoderTiming {
  int64_t batch = 0;
  int64_t seq = 0;
  int64_t runs = 0;
  double seq_per_s = 0;
  double p50_ms = 0;  // per batch
  double p99_ms = 0;
};

// Runs batches of `batch` random sequences of `seq` tokens for at least
// `seconds` (and at least three runs) after one warm-up run.
EncoderTiming TimeEncoder(const model::Model& model, int64_t batch, int64_t seq, double seconds);

}  // namespace mg::cli
