#include "support/gguf_builder.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "byte_sink.hpp"
#include "gguf_writer.hpp"
#include "llama2c.hpp"
#include "support/gpu.hpp"

namespace vkq::test {

GgufMetadata every_type_metadata() {
  GgufMetadata md("every-type");
  md.set("general.architecture", GgufValue::string("test"));
  md.set("t.u8", GgufValue::u8(200));
  md.set("t.i8", GgufValue::i8(-100));
  md.set("t.u16", GgufValue::u16(60000));
  md.set("t.i16", GgufValue::i16(-30000));
  md.set("t.u32", GgufValue::u32(4000000000u));
  md.set("t.i32", GgufValue::i32(-2000000000));
  md.set("t.f32", GgufValue::f32(1e-5f));
  md.set("t.bool", GgufValue::boolean(true));
  md.set("t.str", GgufValue::string("h\xc3\xa9llo \xe2\x96\x81 world"));
  md.set("t.empty_str", GgufValue::string(""));
  md.set("t.u64", GgufValue::u64(0xfedcba9876543210ull));
  md.set("t.i64", GgufValue::i64(-1234567890123ll));
  md.set("t.f64", GgufValue::f64(3.141592653589793));
  md.set("t.arr_u8", GgufValue::array(std::vector<uint8_t>{1, 2, 3}));
  md.set("t.arr_i16", GgufValue::array(std::vector<int16_t>{-1, 2}));
  md.set("t.arr_f32", GgufValue::array(std::vector<float>{0.5f, -2.0f, 1e30f}));
  md.set("t.arr_f64", GgufValue::array(std::vector<double>{1.0, -0.0}));
  md.set("t.arr_i64", GgufValue::array(std::vector<int64_t>{-5}));
  md.set("t.arr_bool", GgufValue::numeric_array(GgufType::BOOL, {1, 0, 1}));
  md.set("t.arr_str", GgufValue::string_array({"a", "", "\xe2\x96\x81tok"}));
  md.set("t.arr_empty", GgufValue::array(std::vector<uint32_t>{}));
  md.set("t.arr_nested", GgufValue::array_of_arrays({GgufValue::array(std::vector<int32_t>{1, 2}),
                                                     GgufValue::string_array({"x"}),
                                                     GgufValue::array_of_arrays({GgufValue::array(std::vector<float>{})})}));
  return md;
}

std::vector<uint8_t> small_gguf(uint32_t alignment) {
  GgufMetadata md = every_type_metadata();
  if (alignment != 32) md.set("general.alignment", GgufValue::u32(alignment));
  GgufWriter w(md);
  w.add_tensor("f32", GgmlType::F32, {7, 3});
  w.add_tensor("f16", GgmlType::F16, {5});
  w.add_tensor("bf16", GgmlType::BF16, {3, 1, 2});
  w.add_tensor("q8_0", GgmlType::Q8_0, {32, 2});
  w.add_tensor("q4_0", GgmlType::Q4_0, {64, 1, 1, 1});
  w.add_tensor("q4_1", GgmlType::Q4_1, {32});
  MemorySink sink;
  w.begin(sink);
  for (const auto& t : w.tensors()) {
    std::vector<uint8_t> data(static_cast<size_t>(t.bytes));
    for (auto& c : data) c = static_cast<uint8_t>(rng()());
    w.write(data.data(), data.size());
  }
  w.finish();
  return std::move(sink.bytes);
}

TempDir::TempDir()
    : dir_(std::filesystem::temp_directory_path() / fmt::format("vkq-test-{}-{:x}", static_cast<long>(::getpid()), rng()())) {
  std::filesystem::create_directories(dir_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::vector<uint8_t>& bytes) const {
  const auto p = path(name);
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p;
}

std::vector<std::string> TempDir::list() const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<uint8_t> stories260k_gguf(GgmlType type) {
  const std::string dir = models_dir();
  const Llama2cCheckpoint ckpt(dir + "/stories260K.bin");
  const Vocab vocab = read_llama2c_tokenizer(dir + "/tok512.bin", static_cast<uint32_t>(ckpt.config().vocab_size));
  MemorySink sink;
  convert_llama2c(ckpt, vocab, sink, {.type = type});
  return std::move(sink.bytes);
}

}  // namespace vkq::test
