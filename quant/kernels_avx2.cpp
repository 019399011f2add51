// kernels_impl.inc built for AVX2 + FMA (quant/CMakeLists.txt adds the
// flags). Eigen is renamed so that none of its inline functions compiled
// here can stand in for the baseline ones elsewhere in the program; the
// build checks that this object defines no other weak symbols.
#include "kernels.hpp"

#define Eigen vkq_eigen_avx2
#define VKQ_KERNEL_NS kernels_avx2
#define VKQ_KERNEL_NAME "avx2"
#include "kernels_impl.inc"
