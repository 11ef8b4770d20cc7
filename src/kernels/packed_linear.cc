#include "kernels/packed_linear.h"

#include <atomic>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

#include "base/status.h"

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

// What one thread needs to run one layer at one row count: memory objects
// whose data handles are re-pointed on every call, so running does not
// allocate once a thread has seen a shape.
struct CallState {
  memory src;
  memory dst;
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

}  // namespace

struct PackedLinear::Impl {
  uint64_t id = next_layer_id.fetch_add(1);
  int64_t in = 0;
  int64_t out = 0;
  Activation activation = Activation::kNone;
  bool has_bias = false;
  memory::desc weights_desc;
  memory weights;
  memory bias;
  mutable std::mutex mutex;
  mutable std::unordered_map<int64_t, dnnl::matmul> primitives;  // by row count

  dnnl::matmul::primitive_desc Describe(int64_t rows, const memory::desc& weights_md) const {
    const memory::desc src({rows, in}, Dt::f32, Tag::ab);
    const memory::desc dst({rows, out}, Dt::f32, Tag::ab);
    dnnl::primitive_attr attr;
    if (activation == Activation::kGeluErf) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    if (has_bias) {
      const memory::desc bias_md({1, out}, Dt::f32, Tag::ab);
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
};

PackedLinear::PackedLinear(const float* weight, const float* bias, int64_t in, int64_t out,
                           Activation activation)
    : impl_(std::make_unique<Impl>()) {
  impl_->in = in;
  impl_->out = out;
  impl_->activation = activation;
  impl_->has_bias = bias != nullptr;
  const memory::desc any({in, out}, Dt::f32, Tag::any);
  auto pd = impl_->Describe(kLayoutRows, any);
  impl_->weights_desc = pd.weights_desc();
  // W is [out, in] row-major, i.e. the {in, out} matrix in "ba" order.
  memory user(memory::desc({in, out}, Dt::f32, Tag::ba), CpuEngine(), const_cast<float*>(weight));
  impl_->weights = memory(impl_->weights_desc, CpuEngine());
  dnnl::reorder(user, impl_->weights).execute(ThreadStream(), user, impl_->weights);
  if (bias) {
    impl_->bias = memory(memory::desc({1, out}, Dt::f32, Tag::ab), CpuEngine());
    std::copy(bias, bias + out, static_cast<float*>(impl_->bias.get_data_handle()));
  }
  ThreadStream().wait();
}

PackedLinear::~PackedLinear() = default;
PackedLinear::PackedLinear(PackedLinear&&) noexcept = default;
PackedLinear& PackedLinear::operator=(PackedLinear&&) noexcept = default;

void PackedLinear::Run(const float* x, int64_t rows, float* y) const {
  if (rows == 0) return;
  thread_local std::unordered_map<CallKey, CallState, CallKeyHash> states;
  auto it = states.find(CallKey{impl_->id, rows});
  if (it == states.end()) {
    CallState state;
    state.src =
        memory(memory::desc({rows, impl_->in}, Dt::f32, Tag::ab), CpuEngine(), DNNL_MEMORY_NONE);
    state.dst =
        memory(memory::desc({rows, impl_->out}, Dt::f32, Tag::ab), CpuEngine(), DNNL_MEMORY_NONE);
    state.args = {{DNNL_ARG_SRC, state.src.get()},
                  {DNNL_ARG_WEIGHTS, impl_->weights.get()},
                  {DNNL_ARG_DST, state.dst.get()}};
    if (impl_->has_bias) state.args.push_back({DNNL_ARG_BIAS, impl_->bias.get()});
    it = states.emplace(CallKey{impl_->id, rows}, std::move(state)).first;
  }
  CallState& state = it->second;
  state.src.set_data_handle(const_cast<float*>(x));
  state.dst.set_data_handle(y);
  const dnnl_status_t status =
      dnnl_primitive_execute(impl_->Primitive(rows).get(), ThreadStream().get(),
                             static_cast<int>(state.args.size()), state.args.data());
  MG_CHECK_MSG(status == dnnl_success, "oneDNN matmul failed");
  ThreadStream().wait();
}

int64_t PackedLinear::in() const { return impl_->in; }
int64_t PackedLinear::out() const { return impl_->out; }
size_t PackedLinear::bytes() const {
  return impl_->weights_desc.get_size() + (impl_->has_bias ? impl_->out * sizeof(float) : 0);
}

}  // namespace mg::kernels
