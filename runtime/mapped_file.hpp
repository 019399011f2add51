// A read-only memory map of a whole file (RAII). Model files are mapped, not
// read, so a 40 GB GGUF costs address space, not memory, and tensor data can
// be handed out as pointers into the map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vkq {

class MappedFile {
 public:
  // Maps `path` read-only. Throws InputError naming the file if it cannot be
  // opened, is not a regular file, or cannot be mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void release() noexcept;
  std::string path_;
  const uint8_t* data_ = nullptr;  // nullptr for an empty file
  size_t size_ = 0;
};

}  // namespace vkq
