// GGUF v3 writer that llama.cpp loads, streaming: the header (metadata in
// insertion order, tensor infos with their offsets) is written first from the
// declared tensor shapes, then tensor data one tensor at a time, in any
// chunking, so a 70B-shaped file never sits in memory.
//
// Layout written (as llama.cpp's gguf_write_to_file):
//   header | metadata | tensor infos | zero pad to alignment
//   tensor 0 bytes | zero pad to alignment | tensor 1 bytes | pad | ...
// Offsets are assigned in declaration order, each the previous offset plus
// the previous size rounded up to the alignment. Writing a file read by
// GgufFile back with the same metadata and tensor order gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_sink.hpp"
#include "gguf_format.hpp"
#include "gguf_value.hpp"

namespace vkq {

class GgufFile;

class GgufWriter {
 public:
  // Alignment: `general.alignment` (u32, a power of two) if present, else 32.
  explicit GgufWriter(GgufMetadata metadata);

  // Declares the next tensor; InputError for a bad name or shape.
  const GgufTensorInfo& add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> ne);

  const GgufMetadata& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const;  // size of everything before the data section
  uint64_t file_size() const;    // total bytes that finish() will have written

  // Streaming: begin() writes everything up to the data section; write()
  // appends bytes to the current tensor and pads it when it is complete;
  // finish() checks that every tensor got all its bytes. No tensor may be
  // declared after begin().
  void begin(ByteSink& sink);
  void write(const void* data, size_t n);
  void finish();
  uint64_t bytes_written() const { return written_; }

 private:
  std::vector<uint8_t> header_bytes() const;
  void put(const void* data, size_t n);
  void pad_to_alignment();

  GgufMetadata metadata_;
  uint32_t alignment_ = kGgufDefaultAlignment;
  std::vector<GgufTensorInfo> tensors_;
  uint64_t data_end_ = 0;  // running size of the data section
  ByteSink* sink_ = nullptr;
  size_t current_ = 0;          // tensor being written
  uint64_t current_done_ = 0;   // its bytes written so far
  uint64_t written_ = 0;
};

// Writes `in` (metadata, tensor order, data) through a GgufWriter: for a file
// that vkq wrote this reproduces it byte for byte.
void write_gguf_copy(const GgufFile& in, ByteSink& out);

}  // namespace vkq
