// Where writers put their bytes: a file (errors name it) or memory (tests,
// fuzzing). Writers stream through a sink so nothing large is buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace vkq {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const void* data, size_t n) = 0;
};

class MemorySink : public ByteSink {
 public:
  void write(const void* data, size_t n) override;
  std::vector<uint8_t> bytes;
};

// Writes to an open FILE*; a failed write is an InputError naming `path`
// (disk full, permission, ...). Does not own the FILE*.
class FileSink : public ByteSink {
 public:
  FileSink(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  void write(const void* data, size_t n) override;

 private:
  std::FILE* f_;
  std::string path_;
};

}  // namespace vkq
