// Bounds-checked little-endian reads over an untrusted byte buffer (a mapped
// model file). Every read checks the bytes left first; a short read is an
// InputError "FILE: truncated: WHAT at byte N needs K bytes, M left".
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

class ByteCursor {
 public:
  ByteCursor(const uint8_t* p, uint64_t size, std::string file) : p_(p), size_(size), file_(std::move(file)) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }
  const uint8_t* here() const { return p_ + pos_; }
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const std::string& what) const { throw InputError(fmt::format("{}: {}", file_, what)); }

  void need(uint64_t n, const std::string& what) const {
    if (n > left()) fail(fmt::format("truncated: {} at byte {} needs {} bytes, {} left", what, pos_, n, left()));
  }
  void skip(uint64_t n, const std::string& what) {
    need(n, what);
    pos_ += n;
  }
  template <class T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_bytes_as_string(uint64_t n, const std::string& what) {
    if (n > left())
      fail(fmt::format("{} at byte {}: length {} is past the end of the file ({} bytes left)", what, pos_, n, left()));
    std::string s(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }
  // GGUF string: u64 length, bytes.
  std::string read_string(const std::string& what) { return read_bytes_as_string(read<uint64_t>(what + " length"), what); }
  std::vector<uint8_t> read_bytes(uint64_t n, const std::string& what) {
    need(n, what);
    std::vector<uint8_t> v(p_ + pos_, p_ + pos_ + n);
    pos_ += n;
    return v;
  }

 private:
  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string file_;
};

}  // namespace vkq
