// An output file that appears only when complete: bytes go to
// "<path>.tmp-XXXXXX" in the same folder, commit() renames it over `path`,
// and destruction without commit() (an error, an exception) removes it. So
// no command ever leaves a partial model file behind.
#pragma once

#include <cstdio>
#include <string>

#include "byte_sink.hpp"

namespace vkq {

class AtomicOutputFile {
 public:
  explicit AtomicOutputFile(std::string path);  // InputError naming the file if it cannot be created
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  ByteSink& sink() { return sink_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  void commit();  // flush, close, rename; InputError on failure (the temp file is removed)

 private:
  std::string path_, temp_;
  std::FILE* f_ = nullptr;
  FileSink sink_;
};

}  // namespace vkq
