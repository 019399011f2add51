// One fuzz target = one file tests/fuzz/fuzz_<name>.cpp:
//
//   #include "fuzz_target.hpp"
//   VKQ_FUZZ_TARGET(my_parser) {   // data, size: the input
//     try { parse(data, size); check properties with expect(); }
//     catch (const vkq::InputError&) {}   // a refusal is fine
//   }
//
// tests/fuzz/CMakeLists.txt builds every fuzz_*.cpp as a libFuzzer binary
// (-DVKQ_FUZZ=ON, clang); scripts/fuzz.sh runs each on tests/fuzz/corpus/<name>/
// (the seeds). The unit tests compile the same files with VKQ_FUZZ_REPLAY
// (no libFuzzer entry point) and replay the seeds and the saved findings in
// tests/fuzz/regressions/<name>/ through vkq::fuzz::check_<name>
// (tests/reliability/test_fuzz_replay.cpp lists the targets).
//
// A finding is a crash, a sanitizer report, an exception other than
// InputError, a violated property (expect() throws std::logic_error), a hang
// (-timeout) or an allocation past -malloc_limit_mb.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace vkq::fuzz {

inline void expect(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("fuzz property violated: ") + what);
}

}  // namespace vkq::fuzz

#ifdef VKQ_FUZZ_REPLAY
#define VKQ_FUZZ_ENTRY_POINT(name)
#else
#define VKQ_FUZZ_ENTRY_POINT(name)                                          \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    vkq::fuzz::check_##name(data, size);                                    \
    return 0;                                                               \
  }
#endif

#define VKQ_FUZZ_TARGET(name)                                      \
  namespace vkq::fuzz {                                            \
  void check_##name(const uint8_t* data, size_t size);             \
  }                                                                \
  VKQ_FUZZ_ENTRY_POINT(name)                                       \
  void vkq::fuzz::check_##name(const uint8_t* data, size_t size)
