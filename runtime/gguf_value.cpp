#include "gguf_value.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

static_assert(std::endian::native == std::endian::little, "GGUF I/O assumes a little-endian host");

namespace {

struct TypeRow {
  GgufType type;
  const char* name;
  size_t size;
};
constexpr TypeRow kTypes[] = {
    {GgufType::U8, "u8", 1},   {GgufType::I8, "i8", 1},     {GgufType::U16, "u16", 2}, {GgufType::I16, "i16", 2},
    {GgufType::U32, "u32", 4}, {GgufType::I32, "i32", 4},   {GgufType::F32, "f32", 4}, {GgufType::BOOL, "bool", 1},
    {GgufType::STRING, "str", 0}, {GgufType::ARRAY, "arr", 0}, {GgufType::U64, "u64", 8}, {GgufType::I64, "i64", 8},
    {GgufType::F64, "f64", 8},
};

bool is_unsigned(GgufType t) {
  return t == GgufType::U8 || t == GgufType::U16 || t == GgufType::U32 || t == GgufType::U64;
}
bool is_signed(GgufType t) {
  return t == GgufType::I8 || t == GgufType::I16 || t == GgufType::I32 || t == GgufType::I64;
}

// Sign-extends the stored bits of a signed scalar.
int64_t signed_value(GgufType t, uint64_t bits) {
  switch (t) {
    case GgufType::I8: return static_cast<int8_t>(bits);
    case GgufType::I16: return static_cast<int16_t>(bits);
    case GgufType::I32: return static_cast<int32_t>(bits);
    default: return static_cast<int64_t>(bits);
  }
}

std::string scalar_text(GgufType t, uint64_t bits) {
  if (is_unsigned(t)) return fmt::format("{}", bits);
  if (is_signed(t)) return fmt::format("{}", signed_value(t, bits));
  if (t == GgufType::BOOL) return bits ? "true" : "false";
  if (t == GgufType::F32) return fmt::format("{}", std::bit_cast<float>(static_cast<uint32_t>(bits)));
  return fmt::format("{}", std::bit_cast<double>(bits));
}

uint64_t load_le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

}  // namespace

std::optional<GgufType> gguf_type_from_id(uint32_t id) {
  if (id <= static_cast<uint32_t>(GgufType::F64)) return static_cast<GgufType>(id);
  return std::nullopt;
}

const char* gguf_type_name(GgufType t) {
  for (const auto& r : kTypes)
    if (r.type == t) return r.name;
  return "?";
}

size_t gguf_scalar_size(GgufType t) {
  for (const auto& r : kTypes)
    if (r.type == t) return r.size;
  return 0;
}

std::string escape_for_message(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

GgufValue GgufValue::f32(float v) { return {GgufType::F32, std::bit_cast<uint32_t>(v)}; }
GgufValue GgufValue::f64(double v) { return {GgufType::F64, std::bit_cast<uint64_t>(v)}; }

GgufValue GgufValue::string(std::string v) {
  GgufValue r(GgufType::STRING, 0);
  r.str_ = std::move(v);
  return r;
}

GgufValue GgufValue::numeric_array(GgufType elem, std::vector<uint8_t> packed) {
  GgufValue r(GgufType::ARRAY, 0);
  r.elem_ = elem;
  r.packed_ = std::move(packed);
  return r;
}

GgufValue GgufValue::string_array(std::vector<std::string> v) {
  GgufValue r(GgufType::ARRAY, 0);
  r.elem_ = GgufType::STRING;
  r.strs_ = std::move(v);
  return r;
}

GgufValue GgufValue::array_of_arrays(std::vector<GgufValue> v) {
  GgufValue r(GgufType::ARRAY, 0);
  r.elem_ = GgufType::ARRAY;
  r.arrays_ = std::move(v);
  return r;
}

uint64_t GgufValue::array_size() const {
  if (!is_array()) return 0;
  if (elem_ == GgufType::STRING) return strs_.size();
  if (elem_ == GgufType::ARRAY) return arrays_.size();
  return packed_.size() / gguf_scalar_size(elem_);
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (is_unsigned(type_)) return bits_;
  if (is_signed(type_)) {
    const int64_t v = signed_value(type_, bits_);
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

std::optional<int64_t> GgufValue::as_int() const {
  if (is_signed(type_)) return signed_value(type_, bits_);
  if (is_unsigned(type_) && bits_ <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(bits_);
  return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
  if (type_ == GgufType::F32) return std::bit_cast<float>(static_cast<uint32_t>(bits_));
  if (type_ == GgufType::F64) return std::bit_cast<double>(bits_);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (type_ == GgufType::BOOL) return bits_ != 0;
  return std::nullopt;
}

const std::string* GgufValue::as_string() const { return type_ == GgufType::STRING ? &str_ : nullptr; }

const std::vector<std::string>* GgufValue::as_strings() const {
  return is_array() && elem_ == GgufType::STRING ? &strs_ : nullptr;
}

const std::vector<GgufValue>* GgufValue::as_arrays() const {
  return is_array() && elem_ == GgufType::ARRAY ? &arrays_ : nullptr;
}

std::string GgufValue::summary(size_t max_elems) const {
  if (type_ == GgufType::STRING) return "\"" + escape_for_message(str_, 120) + "\"";
  if (!is_array()) return scalar_text(type_, bits_);
  const uint64_t n = array_size();
  std::string s = fmt::format("[{} x {}", gguf_type_name(elem_), n);
  const uint64_t shown = std::min<uint64_t>(n, max_elems);
  for (uint64_t i = 0; i < shown; ++i) {
    s += i == 0 ? ": " : ", ";
    if (elem_ == GgufType::STRING) s += "\"" + escape_for_message(strs_[i], 40) + "\"";
    else if (elem_ == GgufType::ARRAY) s += arrays_[i].summary(max_elems > 2 ? 2 : max_elems);
    else {
      const size_t sz = gguf_scalar_size(elem_);
      s += scalar_text(elem_, load_le(packed_.data() + i * sz, sz));
    }
  }
  if (shown < n) s += ", ...";
  return s + "]";
}

// ---- GgufMetadata ----

void GgufMetadata::set(const std::string& key, GgufValue v) {
  if (auto it = index_.find(key); it != index_.end()) {
    entries_[it->second].second = std::move(v);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(key, std::move(v));
}

bool GgufMetadata::erase(const std::string& key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
  return true;
}

const GgufValue* GgufMetadata::find(const std::string& key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const GgufValue& GgufMetadata::at(const std::string& key) const {
  if (const auto* v = find(key)) return *v;
  throw InputError(fmt::format("{}: key '{}' is missing", source_, key));
}

void GgufMetadata::wrong_type(const std::string& key, const GgufValue& v, const char* expected) const {
  const std::string got = v.is_array() ? fmt::format("an array of {}", gguf_type_name(v.elem_type()))
                                       : std::string(gguf_type_name(v.type()));
  throw InputError(fmt::format("{}: key '{}' is {} = {}, expected {}", source_, key, got, v.summary(4), expected));
}

template <class T, class Convert>
T GgufMetadata::get_as(const std::string& key, const char* expected, Convert convert) const {
  const auto& v = at(key);
  if (const std::optional<T> r = convert(v)) return *r;
  wrong_type(key, v, expected);
}

std::string GgufMetadata::get_string(const std::string& key) const {
  return get_as<std::string>(key, "a string", [](const GgufValue& v) {
    return v.as_string() ? std::optional<std::string>(*v.as_string()) : std::nullopt;
  });
}

uint64_t GgufMetadata::get_uint(const std::string& key) const {
  return get_as<uint64_t>(key, "a non-negative integer", [](const GgufValue& v) { return v.as_uint(); });
}

uint32_t GgufMetadata::get_u32(const std::string& key) const {
  return get_as<uint32_t>(key, "an integer in [0, 2^32)", [](const GgufValue& v) -> std::optional<uint32_t> {
    const auto u = v.as_uint();
    if (u && *u <= std::numeric_limits<uint32_t>::max()) return static_cast<uint32_t>(*u);
    return std::nullopt;
  });
}

double GgufMetadata::get_float(const std::string& key) const {
  return get_as<double>(key, "a float (f32 or f64)", [](const GgufValue& v) { return v.as_float(); });
}

bool GgufMetadata::get_bool(const std::string& key) const {
  return get_as<bool>(key, "a bool", [](const GgufValue& v) { return v.as_bool(); });
}

const std::vector<std::string>& GgufMetadata::get_strings(const std::string& key) const {
  const auto& v = at(key);
  if (const auto* s = v.as_strings()) return *s;
  wrong_type(key, v, "an array of str");
}

std::vector<float> GgufMetadata::get_f32_array(const std::string& key) const {
  return get_as<std::vector<float>>(key, "an array of f32", [](const GgufValue& v) { return v.as_vector<float>(); });
}

std::vector<int32_t> GgufMetadata::get_i32_array(const std::string& key) const {
  return get_as<std::vector<int32_t>>(key, "an array of i32", [](const GgufValue& v) { return v.as_vector<int32_t>(); });
}

std::optional<std::string> GgufMetadata::find_string(const std::string& key) const {
  if (!contains(key)) return std::nullopt;
  return get_string(key);
}

std::optional<uint32_t> GgufMetadata::find_u32(const std::string& key) const {
  if (!contains(key)) return std::nullopt;
  return get_u32(key);
}

std::optional<double> GgufMetadata::find_float(const std::string& key) const {
  if (!contains(key)) return std::nullopt;
  return get_float(key);
}

std::optional<bool> GgufMetadata::find_bool(const std::string& key) const {
  if (!contains(key)) return std::nullopt;
  return get_bool(key);
}

}  // namespace vkq
