#include "kernels.hpp"

#include <cstdlib>
#include <cstring>

#define VKQ_KERNEL_NS kernels_generic
#define VKQ_KERNEL_NAME "generic"
#include "kernels_impl.inc"

#if defined(VKQ_QUANT_AVX2)
namespace vkq::quant::kernels_avx2 {
extern const kernels::Table kTable;  // kernels_avx2.cpp
}
#endif

namespace vkq::quant::kernels {

const Table& generic_table() { return kernels_generic::kTable; }

const Table& table() {
#if defined(VKQ_QUANT_AVX2)
  static const bool avx2 = [] {
    const char* force = std::getenv("VKQ_QUANT_KERNELS");
    if (force && std::strcmp(force, "generic") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  if (avx2) return kernels_avx2::kTable;
#endif
  return generic_table();
}

}  // namespace vkq::quant::kernels
