// The engine called directly, as a library user would: Model::Pack (tokenise)
// then Model::Embed, `batch` copies of one text per call, in a loop. The
// baseline bench/serve_bench.sh compares `modelgate serve` against.
//
// usage: engine_direct_bench --model DIR --text T --batch B --threads N --seconds S
// prints {"batch","tokens","seq_per_s","p50_ms","p99_ms"} as one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "model/model.h"

int main(int argc, char** argv) {
  std::string model_dir, text = "hello world";
  int batch = 1, threads = 0;
  double seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    const char* value = argv[i + 1];
    if (arg == "--model") {
      model_dir = value;
    } else if (arg == "--text") {
      text = value;
    } else if (arg == "--batch") {
      batch = std::atoi(value);
    } else if (arg == "--threads") {
      threads = std::atoi(value);
    } else if (arg == "--seconds") {
      seconds = std::atof(value);
    }
  }
  if (model_dir.empty() || batch < 1) {
    std::fprintf(stderr,
                 "usage: engine_direct_bench --model DIR --text T --batch B "
                 "--threads N --seconds S\n");
    return 2;
  }
  mg::kernels::SetThreads(threads);
  auto loaded = mg::model::Model::Load(model_dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
    return 1;
  }
  const auto& model = **loaded;
  const std::vector<std::string_view> texts(static_cast<size_t>(batch), text);
  mg::model::PackedBatch packed;
  mg::model::EncoderWorkspace ws;
  std::vector<float> out;
  using Clock = std::chrono::steady_clock;
  auto call = [&] {
    if (!model.Pack(texts, {}, &packed).ok()) std::abort();
    model.Embed(packed, model.default_pooling(), true, &ws, &out);
  };
  call();  // warm-up: sizes the workspace
  std::vector<double> latencies;
  const Clock::time_point start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds || latencies.size() < 2) {
    const Clock::time_point before = Clock::now();
    call();
    const Clock::time_point after = Clock::now();
    latencies.push_back(std::chrono::duration<double, std::milli>(after - before).count());
    elapsed = std::chrono::duration<double>(after - start).count();
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) {
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::printf("{\"batch\":%d,\"tokens\":%ld,\"seq_per_s\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
              batch, static_cast<long>(packed.length(0)),
              static_cast<double>(latencies.size()) * batch / elapsed, percentile(0.5),
              percentile(0.99));
  return 0;
}
