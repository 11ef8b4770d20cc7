// modelgate bench: encoder throughput and latency of a model on this machine,
// at chosen batch sizes and sequence length. The side-by-side comparisons
// with other tools are scripts in bench/ (they need the peers installed).
#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "kernels/gemm.h"
#include "kernels/isa.h"
#include "model/model.h"

namespace mg::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::string batches = "1,32";
  int64_t seq = 128;
  int threads = 0;
  double seconds = 5;
};

std::vector<int64_t> ParseBatches(const std::string& text) {
  std::vector<int64_t> batches;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      const long value = std::stol(item);
      if (value < 1 || value > 4096) throw std::out_of_range("batch");
      batches.push_back(value);
    } catch (const std::exception&) {
      throw CliError("--batch expects sizes from 1 to 4096 separated by commas, got \"" + text +
                     "\"");
    }
  }
  if (batches.empty()) throw CliError("--batch is empty");
  return batches;
}

void RunBench(const BenchArgs& args) {
  kernels::SetThreads(args.threads);
  const auto batches = ParseBatches(args.batches);
  auto model = ValueOrThrow(model::Model::Load(args.model));
  const auto& config = model->config();
  if (args.seq < 1 || args.seq > config.max_position_embeddings) {
    throw CliError("--seq must be between 1 and " + std::to_string(config.max_position_embeddings));
  }
  std::printf("model %s: %ld layers, hidden %ld, %d threads, %s kernels, sequence length %ld\n",
              args.model.c_str(), static_cast<long>(config.num_hidden_layers),
              static_cast<long>(config.hidden_size), kernels::Threads(),
              std::string(kernels::IsaName(kernels::ActiveIsa())).c_str(),
              static_cast<long>(args.seq));
  std::printf("%8s %12s %14s %14s %10s\n", "batch", "seq/s", "p50 ms/batch", "p99 ms/batch",
              "GFLOP/s");
  const double flops_per_seq = config.ForwardFlops(args.seq);
  std::mt19937 rng(1);
  for (int64_t batch : batches) {
    model::PackedBatch packed;
    for (int64_t s = 0; s < batch; ++s) {
      for (int64_t t = 0; t < args.seq; ++t) {
        packed.ids.push_back(static_cast<int32_t>(rng() % config.vocab_size));
        packed.type_ids.push_back(0);
      }
      packed.offsets.push_back(packed.tokens());
    }
    model::EncoderWorkspace ws;
    model->encoder().Forward(packed, &ws);  // warm-up
    std::vector<double> times;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < args.seconds || times.size() < 3) {
      const auto t0 = std::chrono::steady_clock::now();
      model->encoder().Forward(packed, &ws);
      const auto t1 = std::chrono::steady_clock::now();
      times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      elapsed = std::chrono::duration<double>(t1 - start).count();
    }
    std::sort(times.begin(), times.end());
    const double total_ms = [&] {
      double sum = 0;
      for (double t : times) sum += t;
      return sum;
    }();
    const double seq_per_s = static_cast<double>(batch) * times.size() / (total_ms / 1000.0);
    std::printf("%8ld %12.2f %14.2f %14.2f %10.1f\n", static_cast<long>(batch), seq_per_s,
                times[times.size() / 2], times[std::min(times.size() - 1, times.size() * 99 / 100)],
                flops_per_seq * seq_per_s / 1e9);
  }
  std::printf(
      "side-by-side with ONNX Runtime and PyTorch: bench/engine_vs_peers.sh; tokenizer vs Hugging "
      "Face: "
      "bench/tokenizer_vs_hf.sh\n");
}

}  // namespace

void RegisterBench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Encoder throughput and latency of a model on this machine (random token ids).\n"
      "Side-by-side comparisons with other tools: bench/*.sh in the source tree.");
  cmd->add_option("--model", args->model, "Model folder")->required();
  cmd->add_option("--batch", args->batches, "Batch sizes, comma-separated")->capture_default_str();
  cmd->add_option("--seq", args->seq, "Tokens per sequence")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--seconds", args->seconds, "Measuring time per batch size")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->callback([args] { RunBench(*args); });
}

}  // namespace mg::cli
