// What the scorecard's caches and journal keys say about the code that
// produced a result: the version and a hash of the running executable. A
// kernel fix or a quantizer change between two builds of the same version
// changes results, so a cached reference, a cached quantized model or a
// journaled unit from another build must not be reused.
#pragma once

#include <string>

namespace vkq::eval {

// "0.1.0+<16 hex of the sha256 of /proc/self/exe>" ("0.1.0" alone where the
// executable cannot be read). Hashes the executable: call once per run.
std::string build_identity();

}  // namespace vkq::eval
