#include "kernels/isa.h"

#include <cstdlib>
#include <cstring>

namespace mg::kernels {

Isa DetectIsa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return Isa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
  return Isa::kScalar;
}

bool IsaSupported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(DetectIsa()); }

Isa ActiveIsa() {
  static const Isa active = [] {
    Isa best = DetectIsa();
    const char* requested = std::getenv("MG_ISA");
    if (!requested) return best;
    Isa wanted = best;
    if (std::strcmp(requested, "scalar") == 0) wanted = Isa::kScalar;
    if (std::strcmp(requested, "avx2") == 0) wanted = Isa::kAvx2;
    if (std::strcmp(requested, "avx512") == 0) wanted = Isa::kAvx512;
    return IsaSupported(wanted) ? wanted : best;
  }();
  return active;
}

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

}  // namespace mg::kernels
