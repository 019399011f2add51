// GGUF metadata: value types, one typed value (scalars, strings, arrays,
// nested arrays), and the ordered key -> value map with typed getters whose
// errors name the file and the key.
//
// Encoding in the file (little-endian, packed; GGUF spec):
//   string: u64 length, bytes (no terminator)
//   kv:     string key, u32 value type, value
//   array:  u32 element type, u64 count, elements (an element of type ARRAY is
//           itself "u32 element type, u64 count, elements": nested arrays)
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vkq {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

// Type for a raw id, or nullopt for an id the spec does not define.
std::optional<GgufType> gguf_type_from_id(uint32_t id);
const char* gguf_type_name(GgufType t);  // "u8", "str", "arr", ... (llama.cpp's names)
size_t gguf_scalar_size(GgufType t);     // bytes of one scalar; 0 for STRING and ARRAY

// Printable, bounded form of a string from an untrusted file for messages:
// control and non-ASCII bytes as \xNN, cut at `max` characters.
std::string escape_for_message(std::string_view s, size_t max = 80);

class GgufValue {
 public:
  GgufValue() : GgufValue(GgufType::U8, 0) {}

  static GgufValue u8(uint8_t v) { return {GgufType::U8, v}; }
  static GgufValue i8(int8_t v) { return {GgufType::I8, static_cast<uint8_t>(v)}; }
  static GgufValue u16(uint16_t v) { return {GgufType::U16, v}; }
  static GgufValue i16(int16_t v) { return {GgufType::I16, static_cast<uint16_t>(v)}; }
  static GgufValue u32(uint32_t v) { return {GgufType::U32, v}; }
  static GgufValue i32(int32_t v) { return {GgufType::I32, static_cast<uint32_t>(v)}; }
  static GgufValue u64(uint64_t v) { return {GgufType::U64, v}; }
  static GgufValue i64(int64_t v) { return {GgufType::I64, static_cast<uint64_t>(v)}; }
  static GgufValue f32(float v);
  static GgufValue f64(double v);
  static GgufValue boolean(bool v) { return {GgufType::BOOL, v ? 1u : 0u}; }
  static GgufValue string(std::string v);
  // A scalar of `type` from its little-endian bits (the reader's entry point).
  static GgufValue scalar_bits(GgufType type, uint64_t bits) { return {type, bits}; }

  // Arrays. Numeric elements are kept packed little-endian as in the file.
  static GgufValue numeric_array(GgufType elem, std::vector<uint8_t> packed);
  template <class T>
  static GgufValue array(const std::vector<T>& v);  // T: (u)int8..64, float, double
  static GgufValue string_array(std::vector<std::string> v);
  static GgufValue array_of_arrays(std::vector<GgufValue> v);  // every element is an array

  GgufType type() const { return type_; }
  bool is_array() const { return type_ == GgufType::ARRAY; }
  GgufType elem_type() const { return elem_; }  // arrays only
  uint64_t array_size() const;                  // arrays only

  // Conversions; nullopt/nullptr when the value does not have that shape.
  // Integers accept any integer type whose value fits.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;  // F32 or F64
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;
  const std::vector<std::string>* as_strings() const;  // array of STRING
  const std::vector<GgufValue>* as_arrays() const;     // array of ARRAY
  // Array of numbers of exactly the GGUF type of T (e.g. F32 for float).
  template <class T>
  std::optional<std::vector<T>> as_vector() const;

  // Raw access for the writer.
  uint64_t bits() const { return bits_; }                        // scalars
  const std::vector<uint8_t>& packed() const { return packed_; }  // numeric arrays

  // Short human form: scalars in full, strings quoted and escaped, arrays as
  // "[str x 512: "<unk>", "<s>", ...]" with at most `max_elems` elements.
  std::string summary(size_t max_elems = 8) const;

  friend bool operator==(const GgufValue&, const GgufValue&) = default;

 private:
  GgufValue(GgufType t, uint64_t bits) : type_(t), bits_(bits) {}
  template <class T>
  static constexpr GgufType type_of();

  GgufType type_ = GgufType::U8;
  GgufType elem_ = GgufType::U8;     // element type of an array
  uint64_t bits_ = 0;                // scalar value, little-endian bits zero-extended
  std::string str_;                  // STRING
  std::vector<uint8_t> packed_;      // numeric array elements
  std::vector<std::string> strs_;    // array of STRING
  std::vector<GgufValue> arrays_;    // array of ARRAY
};

// Ordered map of metadata: entries keep insertion order (the writer writes
// them in that order, so a read -> write round trip is byte-identical).
class GgufMetadata {
 public:
  explicit GgufMetadata(std::string source = "<metadata>") : source_(std::move(source)) {}

  const std::string& source() const { return source_; }  // file name for messages
  void set_source(std::string s) { source_ = std::move(s); }

  // Adds `key`, or replaces its value in place.
  void set(const std::string& key, GgufValue v);
  bool erase(const std::string& key);
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  const GgufValue* find(const std::string& key) const;
  const GgufValue& at(const std::string& key) const;  // InputError if missing
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

  // Typed getters: InputError "FILE: key 'K' is missing" or
  // "FILE: key 'K' is f32, expected an unsigned integer".
  std::string get_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;
  uint32_t get_u32(const std::string& key) const;  // any integer type in [0, 2^32)
  double get_float(const std::string& key) const;  // f32 or f64
  bool get_bool(const std::string& key) const;
  const std::vector<std::string>& get_strings(const std::string& key) const;
  std::vector<float> get_f32_array(const std::string& key) const;
  std::vector<int32_t> get_i32_array(const std::string& key) const;

  // Optional variants: nullopt when the key is absent; a present key of the
  // wrong type is still an error.
  std::optional<std::string> find_string(const std::string& key) const;
  std::optional<uint32_t> find_u32(const std::string& key) const;
  std::optional<double> find_float(const std::string& key) const;
  std::optional<bool> find_bool(const std::string& key) const;

  friend bool operator==(const GgufMetadata& a, const GgufMetadata& b) { return a.entries_ == b.entries_; }

 private:
  [[noreturn]] void wrong_type(const std::string& key, const GgufValue& v, const char* expected) const;
  // The value of `key` converted by `convert` (returning std::optional<T>), or wrong_type().
  template <class T, class Convert>
  T get_as(const std::string& key, const char* expected, Convert convert) const;
  std::string source_;
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// ---- templates ----

template <class T>
constexpr GgufType GgufValue::type_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return GgufType::U8;
  else if constexpr (std::is_same_v<T, int8_t>) return GgufType::I8;
  else if constexpr (std::is_same_v<T, uint16_t>) return GgufType::U16;
  else if constexpr (std::is_same_v<T, int16_t>) return GgufType::I16;
  else if constexpr (std::is_same_v<T, uint32_t>) return GgufType::U32;
  else if constexpr (std::is_same_v<T, int32_t>) return GgufType::I32;
  else if constexpr (std::is_same_v<T, uint64_t>) return GgufType::U64;
  else if constexpr (std::is_same_v<T, int64_t>) return GgufType::I64;
  else if constexpr (std::is_same_v<T, float>) return GgufType::F32;
  else if constexpr (std::is_same_v<T, double>) return GgufType::F64;
  else static_assert(sizeof(T) == 0, "not a GGUF numeric type");
}

template <class T>
GgufValue GgufValue::array(const std::vector<T>& v) {
  std::vector<uint8_t> packed(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(packed.data(), v.data(), packed.size());  // little-endian host
  return numeric_array(type_of<T>(), std::move(packed));
}

template <class T>
std::optional<std::vector<T>> GgufValue::as_vector() const {
  if (!is_array() || elem_ != type_of<T>()) return std::nullopt;
  std::vector<T> out(packed_.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), packed_.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace vkq
