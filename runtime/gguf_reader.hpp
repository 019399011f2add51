// GGUF reader (v3; v2 has the same little-endian layout): metadata, tensor
// infos and a read-only map of the tensor data. Files come from strangers, so
// every field is bounds-checked before it is used and nothing is allocated
// from a count or length that the remaining file bytes cannot hold.
//
// File layout (little-endian, packed):
//   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x { string key, u32 value type, value }          (gguf_value.hpp)
//   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset }
//   zero padding to `general.alignment` (u32, default 32)
//   data section: tensor bytes at their offsets (multiples of the alignment)
// Tensor dims are in ggml order: ne[0] is the row length (contiguous), so a
// matrix W[out][in] has ne = {in, out}.
//
// Errors are InputError naming the file, key or tensor and what was
// expected. Beyond what the format itself requires, the reader refuses what
// llama.cpp refuses (duplicate keys or tensor names, tensor names of 64 bytes
// or more, rows that are not whole blocks) so that files vkq accepts load in
// llama.cpp too. Two things the spec allows are accepted although current
// llama.cpp refuses them: arrays of arrays (up to 8 deep), and tensor data in
// any order or with gaps (llama.cpp wants each offset right after the
// previous tensor's padded end, which is what GgufWriter writes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ggml_types.hpp"
#include "gguf_format.hpp"
#include "gguf_value.hpp"
#include "mapped_file.hpp"

namespace vkq {

struct GgufReadOptions {
  // Known ggml types that vkq cannot run (Q4_K, ...) are listed instead of
  // refused (for `vkq inspect`). Unknown type ids are refused either way.
  bool allow_unsupported_types = false;
};

class GgufFile {
 public:
  // Maps `path` read-only and parses it.
  static GgufFile open(const std::string& path, const GgufReadOptions& opts = {});
  // Parses `size` bytes at `data` without copying them: the caller keeps the
  // buffer alive while this object is used. `name` appears in messages.
  static GgufFile from_memory(const uint8_t* data, size_t size, std::string name = "<memory>",
                              const GgufReadOptions& opts = {});

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section
  uint64_t file_size() const { return size_; }
  const uint8_t* file_data() const { return base_; }

  const GgufMetadata& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  const GgufTensorInfo& tensor(const std::string& name) const;  // InputError naming the tensor if missing

 private:
  GgufFile() = default;
  void parse(const GgufReadOptions& opts);

  std::optional<MappedFile> map_;
  std::string name_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  GgufMetadata metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace vkq
