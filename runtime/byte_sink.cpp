#include "byte_sink.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

void MemorySink::write(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  bytes.insert(bytes.end(), p, p + n);
}

void FileSink::write(const void* data, size_t n) {
  if (n && std::fwrite(data, 1, n, f_) != n)
    throw InputError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
}

}  // namespace vkq
