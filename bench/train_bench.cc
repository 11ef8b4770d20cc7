// train_bench: training throughput of modelgate's classifier trainer — one
// step = forward, backward, gradient clipping and AdamW — on random weights
// and a random batch of fixed-length sequences. Prints one JSON line
// {"samples_per_s",...}. The PyTorch side is bench/train_bench_torch.py.
// A modernbert-* preset trains ModernBERT's net without dropout, as
// ModernBERT's configs (and `modelgate train`) do.
//
// usage: train_bench --preset mini --batch 16 --seq-len 128 --threads 2 --steps 20
//                    [--dtype f32]  (bf16: bf16 products, F32 accumulation)
//                    [--last-layer-cls-only 1]  (0: every row of the last layer)
//                    [--lora-rank R]  (R > 0: a LoRA step, encoder frozen;
//                                      bench/lora_vs_full.sh compares the two)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "train/adamw.h"
#include "train/params.h"
#include "train/training_net.h"

int main(int argc, char** argv) {
  std::string preset = "mini";
  int64_t batch = 16, seq_len = 128, steps = 20, warmup = 3, labels = 2, lora_rank = 0;
  int threads = 2;
  mg::train::NetOptions net_options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--preset")
      preset = value;
    else if (flag == "--batch")
      batch = std::atoll(value);
    else if (flag == "--seq-len")
      seq_len = std::atoll(value);
    else if (flag == "--threads")
      threads = std::atoi(value);
    else if (flag == "--steps")
      steps = std::atoll(value);
    else if (flag == "--lora-rank")
      lora_rank = std::atoll(value);
    else if (flag == "--dtype") {
      auto dtype = mg::kernels::ParseGemmDtype(value);
      if (!dtype.ok()) {
        std::fprintf(stderr, "error: %s\n", dtype.status().message().c_str());
        return 2;
      }
      net_options.dtype = *dtype;
    } else if (flag == "--last-layer-cls-only")
      net_options.last_layer_cls_only = std::atoi(value) != 0;
    else {
      std::fprintf(stderr, "error: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  mg::kernels::SetThreads(threads);
  if (net_options.dtype == mg::kernels::GemmDtype::kBf16) {
    const mg::Status supported = mg::kernels::Bf16GemmSupported();
    if (!supported.ok()) {
      std::fprintf(stderr, "error: %s\n", supported.message().c_str());
      return 2;
    }
  }
  auto config = mg::train::PresetConfig(preset, 30522);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", config.status().message().c_str());
    return 2;
  }
  const mg::train::ParamLayout layout =
      mg::train::ParamLayout::For(*config, labels, {lora_rank, 0.0f});
  std::vector<float> params, grads(layout.total);
  mg::train::InitParams(layout, 0, 1, &params);
  if (layout.family == mg::model::FamilyId::kModernBert)
    net_options.hidden_dropout = net_options.attention_dropout = 0.0f;
  const std::unique_ptr<mg::train::TrainingNet> net =
      mg::train::MakeTrainingNet(layout, net_options);
  mg::train::AdamW optimizer(layout, {});
  mg::train::TrainBatch data;
  std::mt19937 rng(3);
  for (int64_t s = 0; s < batch; ++s) {
    for (int64_t t = 0; t < seq_len; ++t) {
      data.ids.push_back(static_cast<int32_t>(1000 + rng() % 29000));
      data.type_ids.push_back(0);
    }
    data.offsets.push_back(static_cast<int64_t>(data.ids.size()));
    data.targets.push_back(static_cast<float>(s % labels));
  }
  auto step = [&](int64_t i) {
    net->SetWeights(params.data());
    net->Forward(params.data(), data, true, static_cast<uint64_t>(i));
    net->Backward(params.data(), data, grads.data());
    const double norm = mg::train::GradNorm(grads.data(), grads.size());
    optimizer.Step(1e-5f, grads.data(), params.data(), mg::train::ClipCoefficient(norm, 1.0));
  };
  for (int64_t i = 0; i < warmup; ++i) step(i);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step(warmup + i);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"engine\":\"modelgate\",\"preset\":\"%s\",\"batch\":%lld,\"seq_len\":%lld,"
      "\"threads\":%d,\"dtype\":\"%s\",\"last_layer_cls_only\":%s,\"lora_rank\":%lld,\"steps\":%"
      "lld,\"seconds\":"
      "%.3f,\"samples_per_s\":%.2f}\n",
      preset.c_str(), static_cast<long long>(batch), static_cast<long long>(seq_len), threads,
      mg::kernels::GemmDtypeName(net_options.dtype),
      net_options.last_layer_cls_only ? "true" : "false", static_cast<long long>(lora_rank),
      static_cast<long long>(steps), seconds, steps * batch / seconds);
  return 0;
}
