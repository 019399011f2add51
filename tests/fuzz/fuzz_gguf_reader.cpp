// libFuzzer target for the GGUF reader (tests/fuzz/CMakeLists.txt, built with
// -DVKQ_FUZZ=ON and clang; scripts/fuzz.sh runs it). The properties checked
// are in gguf_reader_checks.hpp; a crash, sanitizer report, uncaught
// exception, hang or large allocation is a finding. Findings are kept in
// tests/fuzz/regressions/gguf/ and replayed by the unit tests.
#include <cstddef>
#include <cstdint>

#include "gguf_reader_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkq::fuzz::check_gguf_input(data, size);
  return 0;
}
