// Inference throughput of modelgate's encoder at a fixed batch and sequence
// length, and the machine's measured f32 GEMM peak, as JSON lines for
// bench/engine_vs_peers.sh.
//
// usage: engine_bench --model DIR --batch B --seq L --threads T --seconds S [--dtype D]
//        engine_bench --gemm-peak --threads T --seconds S
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/isa.h"
#include "kernels/packed_linear.h"
#include "model/model.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// GFLOP/s of a large f32 GEMM shaped like BERT's feed-forward layer: the
// better of oneDNN's BLAS-style sgemm and its matmul on packed weights.
double GemmPeak(double seconds) {
  const int64_t m = 4096, n = 3072, k = 768;
  std::vector<float> a(m * k, 0.01f), b(n * k, 0.02f), c(m * n);
  const mg::kernels::PackedLinear packed(b.data(), nullptr, k, n);
  double best = 0;
  for (int variant = 0; variant < 2; ++variant) {
    auto run = [&] {
      if (variant == 0) {
        mg::kernels::Linear(a.data(), m, k, b.data(), n, c.data());
      } else {
        packed.Run(a.data(), m, c.data());
      }
    };
    run();
    int runs = 0;
    const double start = Now();
    double elapsed = 0;
    while (elapsed < seconds / 2 || runs < 2) {
      run();
      ++runs;
      elapsed = Now() - start;
    }
    best = std::max(best, 2.0 * m * n * k * runs / elapsed / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir;
  int64_t batch = 1, seq = 128;
  int threads = 0;
  double seconds = 10;
  bool peak = false;
  mg::model::LoadOptions load;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&] {
      return i + 1 < argc ? argv[++i] : (std::fprintf(stderr, "missing value\n"), std::exit(2), "");
    };
    if (arg == "--model")
      model_dir = next();
    else if (arg == "--batch")
      batch = std::atol(next());
    else if (arg == "--seq")
      seq = std::atol(next());
    else if (arg == "--threads")
      threads = std::atoi(next());
    else if (arg == "--seconds")
      seconds = std::atof(next());
    else if (arg == "--gemm-peak")
      peak = true;
    else if (arg == "--dtype") {
      auto parsed = mg::kernels::ParsePrecision(next());
      if (!parsed.ok()) {
        std::fprintf(stderr, "error: %s\n", parsed.status().message().c_str());
        return 2;
      }
      load.precision = *parsed;
    } else {
      std::fprintf(stderr,
                   "usage: engine_bench --model DIR --batch B --seq L --threads T --seconds S "
                   "[--dtype f32|bf16|int8] | "
                   "--gemm-peak\n");
      return 2;
    }
  }
  mg::kernels::SetThreads(threads);
  if (peak) {
    std::printf("{\"tool\":\"gemm-peak\",\"threads\":%d,\"gflops\":%.1f,\"isa\":\"%s\"}\n",
                mg::kernels::Threads(), GemmPeak(seconds),
                std::string(mg::kernels::IsaName(mg::kernels::ActiveIsa())).c_str());
    return 0;
  }
  auto loaded = mg::model::Model::Load(model_dir, load);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
    return 1;
  }
  const auto& model = **loaded;
  mg::model::PackedBatch packed;
  std::mt19937 rng(1);
  for (int64_t s = 0; s < batch; ++s) {
    for (int64_t t = 0; t < seq; ++t) {
      packed.ids.push_back(1000 + static_cast<int32_t>(rng() % 1000));
      packed.type_ids.push_back(0);
    }
    packed.offsets.push_back(packed.tokens());
  }
  mg::model::EncoderWorkspace ws;
  model.encoder().Forward(packed, &ws);  // warm-up: sizes the workspace
  int runs = 0;
  const double start = Now();
  double elapsed = 0;
  while (elapsed < seconds || runs < 2) {
    model.encoder().Forward(packed, &ws);
    ++runs;
    elapsed = Now() - start;
  }
  const double flops_per_seq = model.config().ForwardFlops(seq);
  std::printf(
      "{\"tool\":\"modelgate\",\"dtype\":\"%s\",\"batch\":%ld,\"seq\":%ld,\"threads\":%d,\"seq_per_"
      "s\":%.3f,"
      "\"gflops\":%.1f,\"weights_mb\":%.1f,\"peak_rss_mb\":%.1f}\n",
      std::string(mg::kernels::PrecisionName(model.precision())).c_str(), static_cast<long>(batch),
      static_cast<long>(seq), mg::kernels::Threads(), runs * batch / elapsed,
      flops_per_seq * runs * batch / elapsed / 1e9, model.encoder().bytes() / 1048576.0,
      PeakRssKb() / 1024.0);
  return 0;
}
