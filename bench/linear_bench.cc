// linear_bench: the linear layers of one BERT-base encoder layer (QKV
// 768→2304, attention output 768→768, intermediate 768→3072 with GELU,
// output 3072→768) at one batch's row count, each precision side by side:
// PackedLinear::Run as the engine calls it (int8 includes quantising the
// activations, bf16 converting them), and for int8 the oneDNN matmul alone on
// codes already quantised, signed (s8) and unsigned (u8) — what the
// quantisation costs, and whether unsigned activations would be faster.
// Prints one JSON line per layer and precision: milliseconds per call and
// giga-operations per second (2 * rows * in * out).
//
// usage: linear_bench [--rows 128] [--threads 2] [--reps 200]
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/packed_linear.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double BestMs(int reps, F&& f) {
  for (int i = 0; i < 5; ++i) f();
  double best = 1e30;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < reps; ++i) f();
    best = std::min(best,
                    std::chrono::duration<double, std::milli>(Clock::now() - start).count() / reps);
  }
  return best;
}

// The oneDNN matmul alone: [rows, in] codes of `src_type` times s8 weights,
// F32 output with per-column scales.
double RawInt8Ms(dnnl::memory::data_type src_type, int64_t rows, int64_t in, int64_t out,
                 int reps) {
  using namespace dnnl;
  using Dt = memory::data_type;
  using Tag = memory::format_tag;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  const memory::desc src({rows, in}, src_type, Tag::ab);
  const memory::desc dst({rows, out}, Dt::f32, Tag::ab);
  primitive_attr attr;
  attr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
  const matmul::primitive_desc pd(matmul::desc(src, memory::desc({in, out}, Dt::s8, Tag::any), dst),
                                  attr, eng);
  memory plain({{in, out}, Dt::s8, Tag::ba}, eng);
  memory weights(pd.weights_desc(), eng);
  std::mt19937 rng(1);
  auto* w = static_cast<int8_t*>(plain.get_data_handle());
  for (int64_t i = 0; i < in * out; ++i) w[i] = static_cast<int8_t>(rng() % 255 - 127);
  reorder(plain, weights).execute(s, plain, weights);
  memory a(src, eng), c(dst, eng), scales({{out}, Dt::f32, Tag::a}, eng);
  auto* x = static_cast<uint8_t*>(a.get_data_handle());
  for (int64_t i = 0; i < rows * in; ++i) x[i] = static_cast<uint8_t>(rng());
  std::fill_n(static_cast<float*>(scales.get_data_handle()), out, 1e-4f);
  const matmul mm(pd);
  const std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, a},
                                                {DNNL_ARG_WEIGHTS, weights},
                                                {DNNL_ARG_DST, c},
                                                {DNNL_ARG_ATTR_OUTPUT_SCALES, scales}};
  return BestMs(reps, [&] {
    mm.execute(s, args);
    s.wait();
  });
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 128;
  int threads = 2, reps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") {
      rows = std::atoll(argv[i + 1]);
    } else if (flag == "--threads") {
      threads = std::atoi(argv[i + 1]);
    } else if (flag == "--reps") {
      reps = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "error: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  mg::kernels::SetThreads(threads);
  struct Layer {
    const char* name;
    int64_t in, out;
    mg::kernels::Activation activation;
  };
  const Layer layers[] = {{"qkv", 768, 2304, mg::kernels::Activation::kNone},
                          {"attention_output", 768, 768, mg::kernels::Activation::kNone},
                          {"intermediate", 768, 3072, mg::kernels::Activation::kGeluErf},
                          {"output", 3072, 768, mg::kernels::Activation::kNone}};
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  for (const Layer& layer : layers) {
    std::vector<float> weight(layer.in * layer.out), bias(layer.out), x(rows * layer.in),
        y(rows * layer.out);
    for (float& v : weight) v = normal(rng);
    for (float& v : bias) v = normal(rng);
    for (float& v : x) v = 20.0f * normal(rng);
    const double gop = 2.0 * rows * layer.in * layer.out / 1e9;
    auto report = [&](const char* what, double ms) {
      std::printf(
          "{\"layer\":\"%s\",\"rows\":%lld,\"in\":%lld,\"out\":%lld,\"threads\":%d,\"what\":\"%s\","
          "\"ms\":%.4f,\"gops\":%.0f}\n",
          layer.name, static_cast<long long>(rows), static_cast<long long>(layer.in),
          static_cast<long long>(layer.out), threads, what, ms, gop / ms * 1e3);
    };
    for (const auto precision : {mg::kernels::Precision::kF32, mg::kernels::Precision::kBf16,
                                 mg::kernels::Precision::kInt8}) {
      const mg::kernels::PackedLinear linear(weight.data(), bias.data(), layer.in, layer.out,
                                             layer.activation, precision);
      const std::string what =
          "engine_" + std::string(mg::kernels::PrecisionName(linear.precision()));
      report(what.c_str(), BestMs(reps, [&] { linear.Run(x.data(), rows, y.data()); }));
    }
    report("onednn_s8_only",
           RawInt8Ms(dnnl::memory::data_type::s8, rows, layer.in, layer.out, reps));
    report("onednn_u8_only",
           RawInt8Ms(dnnl::memory::data_type::u8, rows, layer.in, layer.out, reps));
  }
  return 0;
}
