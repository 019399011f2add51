#include "build_identity.hpp"

#include "error.hpp"
#include "file_hash.hpp"

namespace vkq::eval {

std::string build_identity() {
  try {
    return std::string(VKQ_VERSION) + "+" + sha256_file("/proc/self/exe").substr(0, 16);
  } catch (const InputError&) {
    return VKQ_VERSION;
  }
}

}  // namespace vkq::eval
