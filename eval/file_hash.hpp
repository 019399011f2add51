// SHA-256 of a whole file (lowercase hex), streamed in 1 MiB chunks through
// the quantizer's SHA-256 (quant/sha256.hpp): eval-set data files, model
// files for the content-hash caches, the running executable.
#pragma once

#include <string>

namespace vkq::eval {

// InputError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace vkq::eval
