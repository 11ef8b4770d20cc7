#include "kernels/gemm_bf16.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

namespace mg::kernels {
namespace {

using dnnl::memory;

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// One matmul primitive per transposition and beta, with every size, leading
// dimension and alpha given at run time: training packs sequences without
// padding, so the row count changes every batch and a primitive per shape
// (~20 ms to generate) would be made again and again.
struct MatmulKey {
  bool trans_a, trans_b;
  float beta;
  bool operator<(const MatmulKey& o) const {
    return std::tie(trans_a, trans_b, beta) < std::tie(o.trans_a, o.trans_b, o.beta);
  }
};

// Sizes and the leading dimension at run time, the layout (row-major or
// transposed) fixed: with both strides at run time oneDNN 2.6 falls back to
// its scalar reference matmul.
memory::desc RuntimeDesc(memory::data_type type, bool trans) {
  constexpr memory::dim kAny = DNNL_RUNTIME_DIM_VAL;
  return memory::desc({kAny, kAny}, type, trans ? memory::dims{1, kAny} : memory::dims{kAny, 1});
}

dnnl::matmul CreateMatmul(const MatmulKey& key) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(0, {DNNL_RUNTIME_F32_VAL});
  if (key.beta != 0.0f) {
    dnnl::post_ops post;
    post.append_sum(key.beta);
    attr.set_post_ops(post);
  }
  const dnnl::matmul::desc desc(RuntimeDesc(memory::data_type::bf16, key.trans_a),
                                RuntimeDesc(memory::data_type::bf16, key.trans_b),
                                RuntimeDesc(memory::data_type::f32, false));
  return dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, CpuEngine()));
}

// Row-major [rows, cols] with leading dimension ld, or its transpose.
memory::desc OperandDesc(memory::data_type type, int64_t rows, int64_t cols, int64_t ld,
                         bool trans) {
  return trans ? memory::desc({rows, cols}, type, {1, ld})
               : memory::desc({rows, cols}, type, {ld, 1});
}

// The [rows, cols] block of a row-major F32 matrix (leading dimension ld),
// rounded to bf16 into `scratch` with the same leading dimension.
const uint16_t* Convert(const float* src, int64_t rows, int64_t cols, int64_t ld,
                        std::vector<uint16_t>* scratch) {
  scratch->resize((rows - 1) * ld + cols);
  uint16_t* dst = scratch->data();
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r) ToBf16(src + r * ld, cols, dst + r * ld);
  return dst;
}

void GemmF32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
             int64_t ldc) {
  const dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha,
                                          a, lda, b, ldb, beta, c, ldc);
  MG_CHECK_MSG(status == dnnl_success, "dnnl_sgemm failed");
}

}  // namespace

const char* GemmDtypeName(GemmDtype dtype) { return dtype == GemmDtype::kBf16 ? "bf16" : "f32"; }

Result<GemmDtype> ParseGemmDtype(const std::string& name) {
  if (name == "f32") return GemmDtype::kF32;
  if (name == "bf16") return GemmDtype::kBf16;
  return InvalidArgumentError("unknown dtype \"" + name + "\"; use f32 or bf16");
}

Status Bf16GemmSupported() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  if ((isa & bf16) == bf16) return Status::Ok();
  return UnimplementedError(
      "bf16 training needs a CPU with AVX512_BF16 instructions (Intel Cooper Lake, Sapphire "
      "Rapids or later, AMD Zen 4 or later); this one lacks them, where bf16 products would run "
      "emulated, slower than f32, or not at all. Train with --dtype f32");
}

void Gemm(GemmDtype dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc, const uint16_t* a_bf16, const uint16_t* b_bf16) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t r = 0; r < m; ++r)
      for (int64_t col = 0; col < n; ++col)
        c[r * ldc + col] = beta == 0.0f ? 0.0f : c[r * ldc + col] * beta;
    return;
  }
  if (dtype == GemmDtype::kF32) {
    GemmF32(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  thread_local std::map<MatmulKey, dnnl::matmul> primitives;
  thread_local std::vector<uint16_t> scratch_a, scratch_b;
  thread_local dnnl::stream stream(CpuEngine());
  // Stored shapes: A is [m, k] or, transposed, [k, m]; B is [k, n] or [n, k].
  if (a_bf16 == nullptr) a_bf16 = Convert(a, trans_a ? k : m, trans_a ? m : k, lda, &scratch_a);
  if (b_bf16 == nullptr) b_bf16 = Convert(b, trans_b ? n : k, trans_b ? k : n, ldb, &scratch_b);
  const MatmulKey key{trans_a, trans_b, beta};
  auto found = primitives.find(key);
  if (found == primitives.end()) found = primitives.emplace(key, CreateMatmul(key)).first;
  const memory a_mem(OperandDesc(memory::data_type::bf16, m, k, lda, trans_a), CpuEngine(),
                     const_cast<uint16_t*>(a_bf16));
  const memory b_mem(OperandDesc(memory::data_type::bf16, k, n, ldb, trans_b), CpuEngine(),
                     const_cast<uint16_t*>(b_bf16));
  const memory c_mem(memory::desc({m, n}, memory::data_type::f32, {ldc, 1}), CpuEngine(), c);
  float scale = alpha;
  const memory scale_mem(memory::desc({1}, memory::data_type::f32, {1}), CpuEngine(), &scale);
  found->second.execute(stream, {{DNNL_ARG_SRC, a_mem},
                                 {DNNL_ARG_WEIGHTS, b_mem},
                                 {DNNL_ARG_DST, c_mem},
                                 {DNNL_ARG_ATTR_OUTPUT_SCALES, scale_mem}});
  stream.wait();
}

}  // namespace mg::kernels
