#include "kernels/packed_linear.h"

#include <atomic>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/quantize.h"

namespace mg::kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

const dnnl::engine& CpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

// Rows used to choose the packed layout; other row counts reuse that layout.
constexpr int64_t kLayoutRows = 128;

std::atomic<uint64_t> next_layer_id{1};

Dt InputType(Precision precision) {
  switch (precision) {
    case Precision::kBf16:
      return Dt::bf16;
    case Precision::kInt8:
      return Dt::s8;
    case Precision::kF32:
      break;
  }
  return Dt::f32;
}

// What one thread needs to run one layer at one row count: memory objects
// whose data handles are re-pointed on every call, so running does not
// allocate once a thread has seen a shape.
struct CallState {
  memory src;
  memory dst;
  memory input_scale;                 // kInt8: the scale of this call's input
  std::vector<dnnl_exec_arg_t> args;  // for the C API: no per-call conversion
};

// Keyed by (layer id, rows); ids are never reused, so a destroyed layer's
// entries can never be mistaken for a new one's.
struct CallKey {
  uint64_t layer;
  int64_t rows;
  bool operator==(const CallKey&) const = default;
};
struct CallKeyHash {
  size_t operator()(const CallKey& k) const {
    return std::hash<uint64_t>()(k.layer * 1000003u ^ static_cast<uint64_t>(k.rows));
  }
};

// Per-thread scratch for the converted input and its scale; grows
// to the largest call seen and is reused by every layer on the thread.
struct Scratch {
  std::vector<int8_t> s8;
  std::vector<uint16_t> bf16;
  float input_scale = 0.0f;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Without VNNI, oneDNN's int8 kernels add pairs of byte products in 16 bits
// (vpmaddubsw), which saturates on ordinary activations and weights: int8
// then gives wrong results, so it runs only where VNNI does the sums in 32.
bool HasVnni() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  auto has = [isa](dnnl_cpu_isa_t feature) {
    return (isa & static_cast<unsigned>(feature)) == static_cast<unsigned>(feature);
  };
  return has(dnnl_cpu_isa_avx512_core_vnni) || has(dnnl_cpu_isa_avx2_vnni);
}

}  // namespace

std::string_view PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kBf16:
      return "bf16";
    case Precision::kInt8:
      return "int8";
    case Precision::kF32:
      break;
  }
  return "f32";
}

Result<Precision> ParsePrecision(std::string_view name) {
  for (Precision p : {Precision::kF32, Precision::kBf16, Precision::kInt8}) {
    if (name == PrecisionName(p)) return p;
  }
  return InvalidArgumentError("unknown dtype \"" + std::string(name) +
                              "\" (expected f32, bf16 or int8)");
}

struct PackedLinear::Impl {
  uint64_t id = next_layer_id.fetch_add(1);
  int64_t in = 0;
  int64_t out = 0;
  Activation activation = Activation::kNone;
  Precision precision = Precision::kF32;
  bool has_bias = false;
  memory::desc weights_desc;
  memory weights;
  memory bias;
  std::vector<float> weight_scales;  // kInt8: one per output channel
  mutable std::mutex mutex;
  mutable std::unordered_map<int64_t, dnnl::matmul> primitives;  // by row count

  // kInt8 runs without oneDNN's bias argument (oneDNN 2 adds it before the
  // output scales): the bias is a binary post-op after scaling instead.
  bool BiasAsPostOp() const { return precision == Precision::kInt8 && has_bias; }

  // kInt8 scales the int32 products twice: by the weights' per-channel
  // scales, fixed when the primitive is made, then by the input's scale, a
  // one-element multiplier given on each call. oneDNN 2.6 runs output scales
  // given only at run time through its older gemm kernel, about 1.4x slower
  // on VNNI than the brgemm kernel that fixed scales allow.
  dnnl::matmul::primitive_desc Describe(int64_t rows, const memory::desc& weights_md) const {
    const memory::desc src({rows, in}, InputType(precision), Tag::ab);
    const memory::desc dst({rows, out}, Dt::f32, Tag::ab);
    const memory::desc bias_md({1, out}, Dt::f32, Tag::ab);
    dnnl::primitive_attr attr;
    dnnl::post_ops ops;
    if (precision == Precision::kInt8) {
      attr.set_output_scales(1 << 1, weight_scales);
      ops.append_binary(dnnl::algorithm::binary_mul, memory::desc({1, 1}, Dt::f32, Tag::ab));
    }
    if (BiasAsPostOp()) ops.append_binary(dnnl::algorithm::binary_add, bias_md);
    if (activation == Activation::kGeluErf)
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
    attr.set_post_ops(ops);
    if (has_bias && !BiasAsPostOp()) {
      return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights_md, bias_md, dst), attr,
                                          CpuEngine());
    }
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights_md, dst), attr,
                                        CpuEngine());
  }

  const dnnl::matmul& Primitive(int64_t rows) const {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = primitives.find(rows);
    if (it == primitives.end())
      it = primitives.emplace(rows, dnnl::matmul(Describe(rows, weights_desc))).first;
    return it->second;
  }

  // Packs `weight` ([out, in] row-major) in this layer's precision.
  void Pack(const float* weight) {
    const Dt type = InputType(precision);
    std::vector<int8_t> quantised;
    std::vector<uint16_t> rounded;
    void* source = const_cast<float*>(weight);
    if (precision == Precision::kInt8) {
      quantised.resize(static_cast<size_t>(in * out));
      weight_scales.resize(static_cast<size_t>(out));
      QuantizeRowsS8(weight, out, in, quantised.data(), weight_scales.data());
      source = quantised.data();
    } else if (precision == Precision::kBf16) {
      rounded.resize(static_cast<size_t>(in * out));
      ToBf16Parallel(weight, in * out, rounded.data());
      source = rounded.data();
    }
    // The int8 layout depends on the weight scales (Describe), so it is
    // chosen after quantising.
    auto pd = Describe(kLayoutRows, memory::desc({in, out}, type, Tag::any));
    weights_desc = pd.weights_desc();
    weights = memory(weights_desc, CpuEngine());
    // W is [out, in] row-major, i.e. the {in, out} matrix in "ba" order.
    const memory::desc plain({in, out}, type, Tag::ba);
    memory user(plain, CpuEngine(), source);
    dnnl::reorder(user, weights).execute(ThreadStream(), user, weights);
    ThreadStream().wait();
  }
};

PackedLinear::PackedLinear(const float* weight, const float* bias, int64_t in, int64_t out,
                           Activation activation, Precision precision)
    : impl_(std::make_unique<Impl>()) {
  impl_->in = in;
  impl_->out = out;
  impl_->activation = activation;
  impl_->precision = precision;
  impl_->has_bias = bias != nullptr;
  try {
    if (precision == Precision::kInt8 && !HasVnni())
      throw dnnl::error(dnnl_unimplemented, "int8 without VNNI");
    impl_->Pack(weight);
  } catch (const dnnl::error&) {
    // No oneDNN kernel for this precision on this CPU: run in F32.
    if (precision == Precision::kF32) throw;
    impl_->precision = Precision::kF32;
    impl_->weight_scales.clear();
    impl_->Pack(weight);
  }
  if (bias) {
    impl_->bias = memory(memory::desc({1, out}, Dt::f32, Tag::ab), CpuEngine());
    std::copy(bias, bias + out, static_cast<float*>(impl_->bias.get_data_handle()));
  }
}

PackedLinear::~PackedLinear() = default;
PackedLinear::PackedLinear(PackedLinear&&) noexcept = default;
PackedLinear& PackedLinear::operator=(PackedLinear&&) noexcept = default;

void PackedLinear::Run(const float* x, int64_t rows, float* y) const {
  if (rows == 0) return;
  const Impl& impl = *impl_;
  thread_local std::unordered_map<CallKey, CallState, CallKeyHash> states;
  auto it = states.find(CallKey{impl.id, rows});
  if (it == states.end()) {
    CallState state;
    state.src = memory(memory::desc({rows, impl.in}, InputType(impl.precision), Tag::ab),
                       CpuEngine(), DNNL_MEMORY_NONE);
    state.dst =
        memory(memory::desc({rows, impl.out}, Dt::f32, Tag::ab), CpuEngine(), DNNL_MEMORY_NONE);
    state.args = {{DNNL_ARG_SRC, state.src.get()},
                  {DNNL_ARG_WEIGHTS, impl.weights.get()},
                  {DNNL_ARG_DST, state.dst.get()}};
    if (impl.precision == Precision::kInt8) {
      state.input_scale =
          memory(memory::desc({1, 1}, Dt::f32, Tag::ab), CpuEngine(), DNNL_MEMORY_NONE);
      state.args.push_back(
          {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, state.input_scale.get()});
    }
    if (impl.BiasAsPostOp()) {
      state.args.push_back({DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, impl.bias.get()});
    } else if (impl.has_bias) {
      state.args.push_back({DNNL_ARG_BIAS, impl.bias.get()});
    }
    it = states.emplace(CallKey{impl.id, rows}, std::move(state)).first;
  }
  CallState& state = it->second;
  Scratch& scratch = ThreadScratch();
  const int64_t elements = rows * impl.in;
  switch (impl.precision) {
    case Precision::kF32:
      state.src.set_data_handle(const_cast<float*>(x));
      break;
    case Precision::kBf16:
      if (scratch.bf16.size() < static_cast<size_t>(elements)) scratch.bf16.resize(elements);
      ToBf16Parallel(x, elements, scratch.bf16.data());
      state.src.set_data_handle(scratch.bf16.data());
      break;
    case Precision::kInt8: {
      if (scratch.s8.size() < static_cast<size_t>(elements)) scratch.s8.resize(elements);
      scratch.input_scale = QuantizeS8(x, elements, scratch.s8.data());
      state.src.set_data_handle(scratch.s8.data());
      state.input_scale.set_data_handle(&scratch.input_scale);
      break;
    }
  }
  state.dst.set_data_handle(y);
  const dnnl_status_t status =
      dnnl_primitive_execute(impl.Primitive(rows).get(), ThreadStream().get(),
                             static_cast<int>(state.args.size()), state.args.data());
  MG_CHECK_MSG(status == dnnl_success, "oneDNN matmul failed");
  ThreadStream().wait();
}

int64_t PackedLinear::in() const { return impl_->in; }
int64_t PackedLinear::out() const { return impl_->out; }
Precision PackedLinear::precision() const { return impl_->precision; }
size_t PackedLinear::bytes() const {
  return impl_->weights_desc.get_size() + (impl_->has_bias ? impl_->out * sizeof(float) : 0) +
         impl_->weight_scales.size() * sizeof(float);
}

}  // namespace mg::kernels
