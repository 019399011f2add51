#include "gguf_reader.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "byte_cursor.hpp"
#include "error.hpp"

namespace vkq {
namespace {

// Smallest encodings, used to refuse a count before anything is allocated
// for it: a count the remaining bytes cannot hold is a corrupt file.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;               // key length, 1-byte key, type, u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;  // name length, 1-byte name, n_dims, ne[0], type, offset
constexpr uint64_t kMaxNestedElements = 1u << 20;  // total elements in arrays of arrays (memory bound)

class MetadataParser {
 public:
  explicit MetadataParser(ByteCursor& c) : c_(c) {}

  GgufValue value(GgufType type, const std::string& where, int depth) {
    if (type == GgufType::STRING) return GgufValue::string(c_.read_string(where));
    if (type == GgufType::ARRAY) return array(where, depth);
    const size_t n = gguf_scalar_size(type);
    c_.need(n, where);
    uint64_t bits = 0;
    switch (n) {
      case 1: bits = c_.read<uint8_t>(where); break;
      case 2: bits = c_.read<uint16_t>(where); break;
      case 4: bits = c_.read<uint32_t>(where); break;
      default: bits = c_.read<uint64_t>(where); break;
    }
    return GgufValue::scalar_bits(type, bits);
  }

  GgufType type(const std::string& where) {
    const auto id = c_.read<uint32_t>(where + " type");
    const auto t = gguf_type_from_id(id);
    if (!t) c_.fail(fmt::format("{}: unknown value type {} (expected 0..12)", where, id));
    return *t;
  }

 private:
  // u32 element type, u64 count, elements; `depth` counts enclosing arrays.
  GgufValue array(const std::string& where, int depth) {
    if (depth >= kGgufMaxArrayNesting)
      c_.fail(fmt::format("{}: arrays nested deeper than {} levels", where, kGgufMaxArrayNesting));
    const GgufType elem = type(where + " element");
    const auto count = c_.read<uint64_t>(where + " element count");
    const uint64_t min_elem = elem == GgufType::STRING ? 8 : elem == GgufType::ARRAY ? 12 : gguf_scalar_size(elem);
    if (count > c_.left() / min_elem)
      c_.fail(fmt::format("{}: array of {} {} elements cannot fit in the {} bytes left", where, count,
                          gguf_type_name(elem), c_.left()));
    if (elem == GgufType::STRING) {
      std::vector<std::string> v;
      v.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.push_back(c_.read_string(fmt::format("{}[{}]", where, i)));
      return GgufValue::string_array(std::move(v));
    }
    if (elem == GgufType::ARRAY) {
      nested_ += count;
      if (nested_ > kMaxNestedElements)
        c_.fail(fmt::format("{}: more than {} elements in nested arrays", where, kMaxNestedElements));
      std::vector<GgufValue> v;
      v.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.push_back(array(fmt::format("{}[{}]", where, i), depth + 1));
      return GgufValue::array_of_arrays(std::move(v));
    }
    return GgufValue::numeric_array(elem, c_.read_bytes(count * min_elem, where));
  }

  ByteCursor& c_;
  uint64_t nested_ = 0;
};

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

GgufFile GgufFile::open(const std::string& path, const GgufReadOptions& opts) {
  GgufFile f;
  f.map_.emplace(path);
  f.name_ = path;
  f.base_ = f.map_->data();
  f.size_ = f.map_->size();
  f.parse(opts);
  return f;
}

GgufFile GgufFile::from_memory(const uint8_t* data, size_t size, std::string name, const GgufReadOptions& opts) {
  GgufFile f;
  f.name_ = std::move(name);
  f.base_ = data;
  f.size_ = size;
  f.parse(opts);
  return f;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(const std::string& name) const {
  if (const auto* t = find_tensor(name)) return *t;
  throw InputError(fmt::format("{}: tensor '{}' is missing", name_, name));
}

void GgufFile::parse(const GgufReadOptions& opts) {
  ByteCursor c(base_, size_, name_);
  metadata_ = GgufMetadata(name_);

  // Header.
  if (size_ < 4 || std::memcmp(base_, "GGUF", 4) != 0)
    c.fail(fmt::format("not a GGUF file (expected magic 'GGUF', found '{}')",
                       escape_for_message(std::string_view(reinterpret_cast<const char*>(base_), std::min<uint64_t>(size_, 4)))));
  c.read<uint32_t>("magic");
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) c.fail("GGUF version 1 is not supported (expected 2 or 3; re-convert with a current llama.cpp)");
  if (version_ == 0x02000000u || version_ == 0x03000000u) c.fail("big-endian GGUF files are not supported");
  if (version_ != 2 && version_ != 3) c.fail(fmt::format("unsupported GGUF version {} (expected 2 or 3)", version_));
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_kv = c.read<uint64_t>("metadata count");
  if (n_kv > c.left() / kMinKvBytes)
    c.fail(fmt::format("metadata count {} cannot fit in the {} bytes left", n_kv, c.left()));
  if (n_tensors > c.left() / kMinTensorInfoBytes)
    c.fail(fmt::format("tensor count {} cannot fit in the {} bytes left", n_tensors, c.left()));

  // Metadata.
  MetadataParser mp(c);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string(fmt::format("metadata key #{}", i));
    if (key.empty()) c.fail(fmt::format("metadata key #{} is empty", i));
    if (metadata_.contains(key)) c.fail(fmt::format("duplicate metadata key '{}'", escape_for_message(key)));
    const std::string where = fmt::format("key '{}'", escape_for_message(key));
    const GgufType t = mp.type(where);
    metadata_.set(key, mp.value(t, where, 0));
  }
  if (const auto* a = metadata_.find("general.alignment")) {
    // llama.cpp reads it as u32 only; anything else would abort there.
    if (a->type() != GgufType::U32)
      c.fail(fmt::format("key 'general.alignment' is {}, expected u32", a->is_array() ? "an array" : gguf_type_name(a->type())));
    if (!is_power_of_two(a->bits()))
      c.fail(fmt::format("key 'general.alignment' = {} is not a power of two", a->bits()));
    alignment_ = static_cast<uint32_t>(a->bits());
  }

  // Tensor infos.
  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string(fmt::format("tensor name #{}", i));
    if (t.name.empty()) c.fail(fmt::format("tensor #{} has an empty name", i));
    const std::string tn = fmt::format("tensor '{}'", escape_for_message(t.name));
    if (tensor_index_.count(t.name)) c.fail(fmt::format("duplicate {}", tn));
    const auto n_dims = c.read<uint32_t>(tn + " dimension count");
    if (n_dims < 1 || n_dims > kGgufMaxDims)  // checked before the loop: n_dims bounds the reads
      c.fail(fmt::format("{}: {} dimensions, expected 1 to {}", tn, n_dims, kGgufMaxDims));
    for (uint32_t d = 0; d < n_dims; ++d) t.ne.push_back(c.read<uint64_t>(fmt::format("{} dimension {}", tn, d)));
    const auto type_id = c.read<uint32_t>(tn + " type");
    const auto info = ggml_type_info(type_id);
    if (!info) c.fail(fmt::format("{}: unknown ggml type id {}", tn, type_id));
    if (!info->supported && !opts.allow_unsupported_types)
      c.fail(fmt::format("{}: {}: not supported yet (vkq reads F32, F16, BF16, Q8_0, Q4_0, Q4_1)", tn, info->name));
    t.type = info->type;
    if (const auto err = gguf_check_tensor(t); !err.empty()) c.fail(err);

    t.offset = c.read<uint64_t>(tn + " offset");
    if (t.offset % alignment_)
      c.fail(fmt::format("{}: offset {} is not a multiple of the alignment {}", tn, t.offset, alignment_));
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // Data section: starts at the next multiple of the alignment.
  data_offset_ = gguf_align(c.pos(), alignment_);
  if (tensors_.empty()) return;
  if (data_offset_ > size_)
    c.fail(fmt::format("data section at byte {} starts past the end of the file ({} bytes)", data_offset_, size_));
  const uint64_t avail = size_ - data_offset_;
  for (auto& t : tensors_) {
    if (t.offset > avail || t.bytes > avail - t.offset)
      c.fail(fmt::format("tensor '{}': data [{}, +{}) is past the end of the data section ({} bytes)",
                         escape_for_message(t.name), t.offset, t.bytes, avail));
    t.data = base_ + data_offset_ + t.offset;
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const auto& prev = tensors_[order[i - 1]];
    const auto& cur = tensors_[order[i]];
    if (prev.offset + prev.bytes > cur.offset)
      c.fail(fmt::format("tensors '{}' and '{}' overlap (data at {} +{} and {})", escape_for_message(prev.name),
                         escape_for_message(cur.name), prev.offset, prev.bytes, cur.offset));
  }
}

}  // namespace vkq
