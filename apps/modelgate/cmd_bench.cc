// modelgate bench: encoder throughput and latency of a model on this machine,
// at chosen batch sizes and sequence length. The side-by-side comparisons
// with other tools are scripts in bench/ (they need the peers installed).
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/dtype_option.h"
#include "apps/modelgate/encoder_timing.h"
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
  std::string dtype = "f32";
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
  const model::LoadOptions load = LoadOptionsFor(args.dtype);
  auto model = ValueOrThrow(model::Model::Load(args.model, load));
  NoteFallback(*model, load);
  const auto& config = model->config();
  if (args.seq < 1 || args.seq > config.max_position_embeddings) {
    throw CliError("--seq must be between 1 and " + std::to_string(config.max_position_embeddings));
  }
  std::printf("model %s: %ld layers, hidden %ld, %s, %d threads, %s kernels, sequence length %ld\n",
              args.model.c_str(), static_cast<long>(config.num_hidden_layers),
              static_cast<long>(config.hidden_size),
              std::string(kernels::PrecisionName(model->precision())).c_str(), kernels::Threads(),
              std::string(kernels::IsaName(kernels::ActiveIsa())).c_str(),
              static_cast<long>(args.seq));
  std::printf("%8s %12s %14s %14s %10s\n", "batch", "seq/s", "p50 ms/batch", "p99 ms/batch",
              "GFLOP/s");
  const double flops_per_seq = config.ForwardFlops(args.seq);
  for (int64_t batch : batches) {
    const EncoderTiming t = TimeEncoder(*model, batch, args.seq, args.seconds);
    std::printf("%8ld %12.2f %14.2f %14.2f %10.1f\n", static_cast<long>(batch), t.seq_per_s,
                t.p50_ms, t.p99_ms, flops_per_seq * t.seq_per_s / 1e9);
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
  AddDtypeOption(cmd, &args->dtype);
  cmd->callback([args] { RunBench(*args); });
}

}  // namespace mg::cli
