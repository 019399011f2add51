// Test support for GGUF: raw byte assembly (to make files the writer would
// never produce: bad counts, types, offsets), a small valid model file that
// uses every metadata value type, and temporary files.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ggml_types.hpp"
#include "gguf_value.hpp"

namespace vkq::test {

// Little-endian byte assembly, GGUF field by field.
struct RawGguf {
  std::vector<uint8_t> b;

  RawGguf& bytes(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  RawGguf& u8(uint8_t v) { return bytes(&v, 1); }
  RawGguf& u32(uint32_t v) { return bytes(&v, 4); }
  RawGguf& u64(uint64_t v) { return bytes(&v, 8); }
  RawGguf& f32(float v) { return bytes(&v, 4); }
  RawGguf& str(const std::string& s) { return u64(s.size()).bytes(s.data(), s.size()); }
  // "GGUF", version, n_tensors, n_kv.
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return bytes("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  RawGguf& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  RawGguf& kv_str(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
  // name, dims, type, offset
  RawGguf& tensor(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (auto d : ne) u64(d);
    return u32(type).u64(offset);
  }
  RawGguf& pad(size_t alignment = 32) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  RawGguf& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

// Metadata with every value type, including nested arrays and an empty
// string/array, for round trips.
GgufMetadata every_type_metadata();

// A small valid GGUF (every_type_metadata + tensors of each supported type,
// random data), written by GgufWriter.
std::vector<uint8_t> small_gguf(uint32_t alignment = 32);

// A file in a fresh temporary folder, removed with the folder.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path write(const std::string& name, const std::vector<uint8_t>& bytes) const;
  std::vector<std::string> list() const;  // file names in the folder, sorted

 private:
  std::filesystem::path dir_;
};

std::vector<uint8_t> read_file(const std::filesystem::path& p);
// The files in `dir` (not recursive), sorted.
std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir);

// stories260K converted to GGUF in memory (f32 unless told), from VKQ_MODELS_DIR.
std::vector<uint8_t> stories260k_gguf(GgmlType type = GgmlType::F32);

}  // namespace vkq::test
