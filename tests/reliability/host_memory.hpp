// Host memory of this process, for the soak test: the resident set size
// from /proc/self/statm, and the bytes glibc's malloc has handed out in
// every arena (malloc_info's totals: obtained from the system, less free
// chunks, plus mmap'ed chunks). mallinfo2() would count the main arena only,
// and the driver allocates from its own threads' arenas. RSS sees everything
// (driver, JIT, validation layer) in whole pages; malloc's count is exact.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <string>
#include <unistd.h>

namespace vkq::test {

struct HostMemory {
  uint64_t rss = 0;          // bytes resident
  uint64_t malloc_used = 0;  // bytes in use by malloc, all arenas

  static HostMemory now() {
    HostMemory m;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      unsigned long long size = 0, resident = 0;
      if (std::fscanf(f, "%llu %llu", &size, &resident) == 2)
        m.rss = resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
      std::fclose(f);
    }
    m.malloc_used = malloc_in_use();
    return m;
  }

 private:
  // The process-wide totals come last in malloc_info's XML, after the
  // per-arena blocks: <total type="fast|rest|mmap" count=".." size=".."/>
  // and <system type="current" size=".."/>.
  static uint64_t malloc_in_use() {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* f = ::open_memstream(&buf, &len);
    if (!f) return 0;
    ::malloc_info(0, f);
    std::fclose(f);
    const std::string xml(buf, len);
    std::free(buf);
    auto size_of = [&](const char* tag) -> uint64_t {
      const auto at = xml.rfind(tag);
      if (at == std::string::npos) return 0;
      const auto s = xml.find("size=\"", at);
      return s == std::string::npos ? 0 : std::strtoull(xml.c_str() + s + 6, nullptr, 10);
    };
    const uint64_t system = size_of("<system type=\"current\""), fast = size_of("<total type=\"fast\""),
                   rest = size_of("<total type=\"rest\""), mmapped = size_of("<total type=\"mmap\"");
    return system - fast - rest + mmapped;
  }
};

}  // namespace vkq::test
