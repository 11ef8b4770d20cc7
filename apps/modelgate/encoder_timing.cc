#include "apps/modelgate/encoder_timing.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <vector>

namespace mg::cli {

EncoderTiming TimeEncoder(const model::Model& model, int64_t batch, int64_t seq, double seconds) {
  const auto& config = model.config();
  std::mt19937 rng(1);
  model::PackedBatch packed;
  for (int64_t s = 0; s < batch; ++s) {
    for (int64_t t = 0; t < seq; ++t) {
      packed.ids.push_back(static_cast<int32_t>(rng() % config.vocab_size));
      packed.type_ids.push_back(0);
    }
    packed.offsets.push_back(packed.tokens());
  }
  model::EncoderWorkspace ws;
  model.encoder().Forward(packed, &ws);  // warm-up
  std::vector<double> times;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds || times.size() < 3) {
    const auto t0 = std::chrono::steady_clock::now();
    model.encoder().Forward(packed, &ws);
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    elapsed = std::chrono::duration<double>(t1 - start).count();
  }
  std::sort(times.begin(), times.end());
  const double total_ms = std::accumulate(times.begin(), times.end(), 0.0);
  EncoderTiming timing;
  timing.batch = batch;
  timing.seq = seq;
  timing.runs = static_cast<int64_t>(times.size());
  timing.seq_per_s = static_cast<double>(batch) * times.size() / (total_ms / 1000.0);
  timing.p50_ms = times[times.size() / 2];
  timing.p99_ms = times[std::min(times.size() - 1, times.size() * 99 / 100)];
  return timing;
}

}  // namespace mg::cli
