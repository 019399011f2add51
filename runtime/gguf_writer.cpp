#include "gguf_writer.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "error.hpp"
#include "gguf_reader.hpp"

namespace vkq {
namespace {

class HeaderBuffer {
 public:
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  // The value without its type tag (scalars, strings, and arrays as
  // "element type, count, elements").
  void put_value(const GgufValue& v) {
    switch (v.type()) {
      case GgufType::STRING: put_string(*v.as_string()); return;
      case GgufType::ARRAY: put_array(v); return;
      default: {
        const uint64_t bits = v.bits();
        const auto* p = reinterpret_cast<const uint8_t*>(&bits);
        bytes.insert(bytes.end(), p, p + gguf_scalar_size(v.type()));
      }
    }
  }
  void put_array(const GgufValue& v) {
    put<uint32_t>(static_cast<uint32_t>(v.elem_type()));
    put<uint64_t>(v.array_size());
    if (const auto* s = v.as_strings()) {
      for (const auto& e : *s) put_string(e);
    } else if (const auto* a = v.as_arrays()) {
      for (const auto& e : *a) put_array(e);
    } else {
      bytes.insert(bytes.end(), v.packed().begin(), v.packed().end());
    }
  }
  std::vector<uint8_t> bytes;
};

}  // namespace

GgufWriter::GgufWriter(GgufMetadata metadata) : metadata_(std::move(metadata)) {
  if (const auto* a = metadata_.find("general.alignment")) {
    if (a->type() != GgufType::U32 || a->bits() == 0 || (a->bits() & (a->bits() - 1)))
      throw InputError(fmt::format("{}: key 'general.alignment' = {} must be a u32 power of two", metadata_.source(),
                                   a->summary()));
    alignment_ = static_cast<uint32_t>(a->bits());
  }
}

const GgufTensorInfo& GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> ne) {
  if (sink_) throw std::logic_error("GgufWriter::add_tensor after begin()");
  GgufTensorInfo t;
  t.name = name;
  t.type = type;
  t.ne = std::move(ne);
  if (auto err = gguf_check_tensor(t); !err.empty()) throw InputError(fmt::format("{}: {}", metadata_.source(), err));
  for (const auto& o : tensors_)
    if (o.name == name) throw InputError(fmt::format("{}: duplicate tensor '{}'", metadata_.source(), name));
  t.offset = data_end_;
  data_end_ += gguf_align(t.bytes, alignment_);
  tensors_.push_back(std::move(t));
  return tensors_.back();
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
  HeaderBuffer h;
  h.bytes.insert(h.bytes.end(), {'G', 'G', 'U', 'F'});
  h.put<uint32_t>(kGgufVersion);
  h.put<uint64_t>(tensors_.size());
  h.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_.entries()) {
    h.put_string(key);
    h.put<uint32_t>(static_cast<uint32_t>(value.type()));
    h.put_value(value);
  }
  for (const auto& t : tensors_) {
    h.put_string(t.name);
    h.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (const auto d : t.ne) h.put<uint64_t>(d);
    h.put<uint32_t>(static_cast<uint32_t>(t.type));
    h.put<uint64_t>(t.offset);
  }
  return std::move(h.bytes);
}

uint64_t GgufWriter::data_offset() const { return gguf_align(header_bytes().size(), alignment_); }

uint64_t GgufWriter::file_size() const { return data_offset() + data_end_; }

void GgufWriter::put(const void* data, size_t n) {
  sink_->write(data, n);
  written_ += n;
}

void GgufWriter::pad_to_alignment() {
  static constexpr uint8_t zeros[256] = {};
  uint64_t n = gguf_align(written_, alignment_) - written_;
  while (n) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof(zeros)));
    put(zeros, k);
    n -= k;
  }
}

void GgufWriter::begin(ByteSink& sink) {
  if (sink_) throw std::logic_error("GgufWriter::begin called twice");
  sink_ = &sink;
  const auto h = header_bytes();
  put(h.data(), h.size());
  pad_to_alignment();
  // Zero-sized tensors cannot exist (no dimension is 0), so current_ always
  // names a tensor that still wants bytes.
}

void GgufWriter::write(const void* data, size_t n) {
  if (!sink_) throw std::logic_error("GgufWriter::write before begin()");
  const auto* p = static_cast<const uint8_t*>(data);
  while (n) {
    if (current_ >= tensors_.size())
      throw std::logic_error(fmt::format("GgufWriter: {} bytes beyond the last tensor", n));
    const auto& t = tensors_[current_];
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, t.bytes - current_done_));
    put(p, k);
    p += k;
    n -= k;
    current_done_ += k;
    if (current_done_ == t.bytes) {
      pad_to_alignment();
      ++current_;
      current_done_ = 0;
    }
  }
}

void GgufWriter::finish() {
  if (!sink_) throw std::logic_error("GgufWriter::finish before begin()");
  if (current_ != tensors_.size())
    throw std::logic_error(fmt::format("GgufWriter: tensor '{}' got {} of {} bytes", tensors_[current_].name,
                                       current_done_, tensors_[current_].bytes));
}

void write_gguf_copy(const GgufFile& in, ByteSink& out) {
  GgufWriter w(in.metadata());
  for (const auto& t : in.tensors()) w.add_tensor(t.name, t.type, t.ne);
  w.begin(out);
  for (const auto& t : in.tensors()) w.write(t.data, static_cast<size_t>(t.bytes));
  w.finish();
}

}  // namespace vkq
