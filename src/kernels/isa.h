// Instruction-set selection for the compute kernels.
//
// Kernels come in a scalar reference version and AVX2 and AVX-512 versions;
// the best one the CPU supports is chosen at run time (never at compile time:
// the binary runs on any x86-64). MG_ISA=scalar|avx2|avx512 in the
// environment lowers the choice, for testing and comparison.
#pragma once

#include <string_view>

namespace mg::kernels {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// The most capable ISA this CPU supports (AVX2 means AVX2+FMA; AVX-512 means
// F, BW, DQ and VL).
Isa DetectIsa();
// The ISA used by Kernels(): DetectIsa(), lowered by MG_ISA. Thread-safe.
Isa ActiveIsa();
bool IsaSupported(Isa isa);
std::string_view IsaName(Isa isa);

}  // namespace mg::kernels
