// GGUF reader: valid files parse exactly; a hand-made corpus of corrupt files
// is refused with InputError naming the file and the problem — never a
// crash, a hang, or an allocation sized by an unchecked field.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "byte_sink.hpp"
#include "error.hpp"
#include "fuzz/gguf_reader_checks.hpp"
#include "gguf_reader.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "synth.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;
using vkq::GgufFile;
using vkq::GgufType;
using vkq::InputError;
using vkq::test::RawGguf;

namespace {

GgufFile parse(const std::vector<uint8_t>& b, const vkq::GgufReadOptions& o = {}) {
  return GgufFile::from_memory(b.data(), b.size(), "corrupt.gguf", o);
}

// Refused with an InputError whose message names the file and contains `what`.
void require_refused(const std::vector<uint8_t>& b, const std::string& what) {
  INFO("expecting: " << what);
  try {
    parse(b);
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), ContainsSubstring("corrupt.gguf") && ContainsSubstring(what));
  }
}

// One F32 tensor {8} at offset 0 after the given metadata bytes.
RawGguf one_tensor(uint64_t offset = 0, std::vector<uint64_t> ne = {8}, uint32_t type = 0) {
  RawGguf r;
  r.header(1, 0).tensor("w", ne, type, offset).pad().zeros(64);
  return r;
}

}  // namespace

TEST_CASE("gguf reader parses every metadata type and tensor type", "[gguf]") {
  const auto bytes = vkq::test::small_gguf();
  const auto f = parse(bytes);
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 32);
  CHECK(f.data_offset() % 32 == 0);
  CHECK(f.metadata() == vkq::test::every_type_metadata());
  const auto& md = f.metadata();
  CHECK(md.get_u32("t.u8") == 200);
  CHECK(md.get_uint("t.u64") == 0xfedcba9876543210ull);
  CHECK(md.at("t.i8").as_int() == -100);
  CHECK(md.get_float("t.f32") == 1e-5f);
  CHECK(md.get_float("t.f64") == 3.141592653589793);
  CHECK(md.get_bool("t.bool"));
  CHECK(md.get_string("t.str") == "h\xc3\xa9llo \xe2\x96\x81 world");
  CHECK(md.get_strings("t.arr_str") == std::vector<std::string>{"a", "", "\xe2\x96\x81tok"});
  CHECK(md.get_f32_array("t.arr_f32") == std::vector<float>{0.5f, -2.0f, 1e30f});
  const auto* nested = md.at("t.arr_nested").as_arrays();
  REQUIRE(nested);
  REQUIRE(nested->size() == 3);
  CHECK((*nested)[0].as_vector<int32_t>() == std::vector<int32_t>{1, 2});
  CHECK((*nested)[2].as_arrays()->at(0).array_size() == 0);

  REQUIRE(f.tensors().size() == 6);
  const auto& q = f.tensor("q4_0");
  CHECK(q.type == GgmlType::Q4_0);
  CHECK(q.ne == std::vector<uint64_t>{64, 1, 1, 1});
  CHECK(q.bytes == 36);
  CHECK(q.row_length() == 64);
  CHECK(q.n_rows() == 1);
  CHECK(f.tensor("bf16").shape_string() == "3 x 1 x 2");
  for (const auto& t : f.tensors()) {
    CHECK(t.offset % 32 == 0);
    CHECK(t.data == bytes.data() + f.data_offset() + t.offset);
  }
  CHECK(f.find_tensor("nope") == nullptr);
  CHECK_THROWS_WITH(f.tensor("nope"), ContainsSubstring("tensor 'nope' is missing"));
}

TEST_CASE("gguf reader maps files and reads version 2", "[gguf]") {
  vkq::test::TempDir dir;
  auto bytes = vkq::test::small_gguf(64);
  const auto f = GgufFile::open(dir.write("m.gguf", bytes).string());
  CHECK(f.alignment() == 64);
  CHECK(f.name() == dir.path("m.gguf").string());
  for (const auto& t : f.tensors()) CHECK(t.offset % 64 == 0);
  CHECK(std::equal(f.tensor("q8_0").data, f.tensor("q8_0").data + 68,
                   bytes.begin() + static_cast<long>(f.data_offset() + f.tensor("q8_0").offset)));
  bytes[4] = 2;  // v2 has the same layout
  CHECK(parse(bytes).version() == 2);
  CHECK_THROWS_WITH(GgufFile::open(dir.path("missing.gguf").string()), ContainsSubstring("missing.gguf: cannot open"));
  CHECK_THROWS_WITH(GgufFile::open(dir.dir().string()), ContainsSubstring("not a regular file"));
}

TEST_CASE("typed metadata getters name the key and the expected type", "[gguf]") {
  const auto f = parse(vkq::test::small_gguf());
  const auto& md = f.metadata();
  CHECK_THROWS_WITH(md.get_u32("llama.block_count"), "corrupt.gguf: key 'llama.block_count' is missing");
  CHECK_THROWS_WITH(md.get_u32("t.str"), ContainsSubstring("key 't.str' is str") && ContainsSubstring("expected an integer"));
  CHECK_THROWS_WITH(md.get_u32("t.u64"), ContainsSubstring("expected an integer in [0, 2^32)"));
  CHECK_THROWS_WITH(md.get_u32("t.i8"), ContainsSubstring("t.i8"));
  CHECK_THROWS_WITH(md.get_string("t.u8"), ContainsSubstring("expected a string"));
  CHECK_THROWS_WITH(md.get_strings("t.arr_f32"), ContainsSubstring("an array of f32") && ContainsSubstring("expected an array of str"));
  CHECK_THROWS_WITH(md.get_float("t.bool"), ContainsSubstring("expected a float"));
  CHECK(!md.find_u32("absent"));
  CHECK_THROWS_AS(md.find_u32("t.str"), InputError);
  CHECK(md.at("t.arr_str").summary() == "[str x 3: \"a\", \"\", \"\\xe2\\x96\\x81tok\"]");
}

TEST_CASE("truncation at every byte is refused", "[gguf][corrupt]") {
  const auto bytes = vkq::test::small_gguf();
  const auto f = parse(bytes);
  uint64_t needed = 0;  // bytes the reader needs: everything up to the end of the last tensor's data
  for (const auto& t : f.tensors()) needed = std::max(needed, f.data_offset() + t.offset + t.bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    if (n < needed) {
      INFO("truncated at " << n);
      CHECK_THROWS_AS(parse(cut), InputError);
    } else {
      CHECK_NOTHROW(parse(cut));  // only the last tensor's padding is missing
    }
  }
  require_refused({bytes.begin(), bytes.begin() + 400}, "truncated");
}

TEST_CASE("bad magic and versions are refused", "[gguf][corrupt]") {
  require_refused({}, "not a GGUF file");
  require_refused({'G', 'G', 'M', 'L', 3, 0, 0, 0}, "not a GGUF file (expected magic 'GGUF', found 'GGML')");
  require_refused(RawGguf().header(0, 0, 1).b, "GGUF version 1 is not supported");
  require_refused(RawGguf().header(0, 0, 4).b, "unsupported GGUF version 4");
  require_refused(RawGguf().header(0, 0, 0x03000000).b, "big-endian");
  CHECK_NOTHROW(parse(RawGguf().header(0, 0).b));  // empty but valid
}

TEST_CASE("huge counts and lengths are refused before allocating", "[gguf][corrupt]") {
  require_refused(RawGguf().header(0, ~0ull).b, "metadata count 18446744073709551615 cannot fit");
  require_refused(RawGguf().header(1ull << 62, 0).b, "tensor count 4611686018427387904 cannot fit");
  // key length past the end
  require_refused(RawGguf().header(0, 1).u64(~0ull).zeros(16).b, "metadata key #0 at byte 32: length 18446744073709551615 is past the end");
  // string value length past the end
  require_refused(RawGguf().header(0, 1).str("k").u32(8).u64(1ull << 40).zeros(8).b, "key 'k' at byte");
  // array counts: numbers, strings, nested arrays
  require_refused(RawGguf().header(0, 1).str("k").u32(9).u32(6).u64(1ull << 61).zeros(8).b,
                  "key 'k': array of 2305843009213693952 f32 elements cannot fit");
  require_refused(RawGguf().header(0, 1).str("k").u32(9).u32(8).u64(~0ull).zeros(8).b, "array of 18446744073709551615 str");
  require_refused(RawGguf().header(0, 1).str("k").u32(9).u32(9).u64(1ull << 50).zeros(8).b, "array of 1125899906842624 arr");
  // a string inside an array longer than the file
  require_refused(RawGguf().header(0, 1).str("k").u32(9).u32(8).u64(1).u64(1000).zeros(8).b, "key 'k'[0]");
}

TEST_CASE("nested arrays: depth limit and bad element types", "[gguf][corrupt]") {
  auto nested = [](int depth) {
    RawGguf r;
    r.header(0, 1).str("deep").u32(9);
    for (int i = 0; i < depth - 1; ++i) r.u32(9).u64(1);
    return r.u32(0).u64(1).u8(7);
  };
  const auto ok = parse(nested(8).b);
  CHECK(ok.metadata().at("deep").is_array());
  require_refused(nested(9).b, "nested deeper than 8");
  require_refused(nested(100000).b, "nested deeper than 8");
  require_refused(RawGguf().header(0, 1).str("k").u32(9).u32(9).u64(1).u32(13).u64(0).b, "key 'k'[0] element: unknown value type 13");
}

TEST_CASE("bad value types, keys and alignment are refused", "[gguf][corrupt]") {
  require_refused(RawGguf().header(0, 1).str("k").u32(13).u32(0).b, "key 'k': unknown value type 13");
  require_refused(RawGguf().header(0, 1).str("k").u32(0xffffffff).u32(0).b, "unknown value type 4294967295");
  require_refused(RawGguf().header(0, 1).str("k").u32(9).u32(77).u64(0).b, "key 'k' element: unknown value type 77");
  require_refused(RawGguf().header(0, 1).str("").u32(4).u32(0).b, "metadata key #0 is empty");
  require_refused(RawGguf().header(0, 2).kv_u32("a", 1).kv_u32("a", 2).b, "duplicate metadata key 'a'");
  require_refused(RawGguf().header(0, 1).kv_u32("general.alignment", 0).b, "'general.alignment' = 0 is not a power of two");
  require_refused(RawGguf().header(0, 1).kv_u32("general.alignment", 48).b, "= 48 is not a power of two");
  require_refused(RawGguf().header(0, 1).str("general.alignment").u32(10).u64(32).b, "'general.alignment' is u64, expected u32");
  require_refused(RawGguf().header(0, 1).kv_str("general.alignment", "32").b, "expected u32");
  // a control byte in a key is escaped in the message
  require_refused(RawGguf().header(0, 1).str("a\nb").u32(13).b, "key 'a\\x0ab'");
}

TEST_CASE("bad tensor infos are refused", "[gguf][corrupt]") {
  require_refused(one_tensor(0, {8}, 40).b, "tensor 'w': unknown ggml type id 40");
  require_refused(one_tensor(0, {8}, 1000000).b, "unknown ggml type id 1000000");
  require_refused(one_tensor(0, {8}, 4).b, "unknown ggml type id 4");  // removed Q4_2
  require_refused(one_tensor(0, {256}, 12).b, "tensor 'w': Q4_K: not supported yet");
  require_refused(one_tensor(0, {256}, 14).b, "Q6_K: not supported yet");
  require_refused(one_tensor(0, {}, 0).b, "tensor 'w': 0 dimensions, expected 1 to 4");
  require_refused(one_tensor(0, {1, 1, 1, 1, 1}, 0).b, "5 dimensions");
  require_refused(RawGguf().header(1, 0).str("w").u32(0xffffffff).zeros(64).b, "4294967295 dimensions");
  require_refused(one_tensor(0, {8, 0}, 0).b, "dimension 1 is 0");
  require_refused(one_tensor(0, {1ull << 32, 1ull << 32}, 0).b, "element count overflows");
  require_refused(one_tensor(0, {~0ull}, 0).b, "element count overflows");
  require_refused(one_tensor(0, {1ull << 62}, 0).b, "byte size overflows");
  require_refused(one_tensor(0, {33}, 2).b, "row length 33 is not a multiple of the Q4_0 block size 32");
  require_refused(one_tensor(16).b, "tensor 'w': offset 16 is not a multiple of the alignment 32");
  require_refused(one_tensor(64).b, "tensor 'w': data [64, +32) is past the end of the data section (64 bytes)");
  require_refused(one_tensor(~0ull - 31).b, "past the end");
  require_refused(one_tensor(0, {1u << 20}).b, "past the end");
  require_refused(RawGguf().header(1, 0).tensor("", {8}, 0, 0).pad().zeros(32).b, "tensor #0 has an empty name");
  require_refused(RawGguf().header(1, 0).tensor(std::string(64, 'n'), {8}, 0, 0).pad().zeros(32).b, "name is 64 bytes, at most 63");
  require_refused(RawGguf().header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad().zeros(64).b, "duplicate tensor 'a'");
  require_refused(RawGguf().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(96).b,
                  "tensors 'a' and 'b' overlap");
  require_refused(RawGguf().header(2, 0).tensor("a", {8}, 0, 32).tensor("b", {16}, 0, 0).pad().zeros(96).b,
                  "tensors 'b' and 'a' overlap");
  // the data section itself starts past the end
  require_refused(RawGguf().header(1, 1).kv_u32("general.alignment", 1u << 30).tensor("w", {8}, 0, 0).b,
                  "data section at byte 1073741824 starts past the end");
  // Known-but-unsupported types are listed when asked (vkq inspect).
  const auto f = parse(one_tensor(0, {256}, 12).zeros(200).b, {.allow_unsupported_types = true});
  CHECK(f.tensor("w").type == GgmlType::Q4_K);
  CHECK(f.tensor("w").bytes == 144);
}

TEST_CASE("valid layouts: any tensor order, gaps, alignment from metadata", "[gguf]") {
  const auto f = parse(RawGguf().header(2, 1).kv_u32("general.alignment", 8).tensor("b", {2}, 0, 16).tensor("a", {2}, 0, 0).pad(8).zeros(24).b);
  CHECK(f.alignment() == 8);
  CHECK(f.tensor("b").offset == 16);
  CHECK(f.tensor("a").data + 16 == f.tensor("b").data);
}

TEST_CASE("random bytes never crash the reader", "[gguf][corrupt]") {
  auto& rng = vkq::test::rng();
  const auto valid = vkq::test::small_gguf();
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b;
    if (i % 3 == 0) {  // pure noise
      b.resize(rng() % 512);
      for (auto& c : b) c = static_cast<uint8_t>(rng());
    } else {  // a valid file with a few bytes flipped: deeper paths
      b = valid;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    }
    try {
      const auto f = parse(b);
      for (const auto& t : f.tensors()) CHECK(t.data + t.bytes <= b.data() + b.size());
    } catch (const InputError&) {
    }
  }
}

// The fuzzer's seed corpus (tests/fuzz/corpus/gguf): every seed parses. The
// hidden test below regenerates it: VKQ_FUZZ_CORPUS_OUT=DIR vkq_tests "[.fuzz-corpus]".
namespace {
std::vector<std::pair<std::string, std::vector<uint8_t>>> fuzz_seeds() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds;
  seeds.emplace_back("every_type.gguf", vkq::test::small_gguf());
  seeds.emplace_back("empty.gguf", RawGguf().header(0, 0).b);
  seeds.emplace_back("v2_nested.gguf", RawGguf()
                                            .header(1, 2, 2)
                                            .kv_str("general.architecture", "llama")
                                            .str("a").u32(9).u32(9).u64(2).u32(8).u64(1).str("x").u32(5).u64(1).u32(7)
                                            .tensor("t", {4, 2}, 0, 0)
                                            .pad()
                                            .zeros(32)
                                            .b);
  seeds.emplace_back("align64.gguf", vkq::test::small_gguf(64));
  auto cfg = vkq::parse_hf_config(R"({"hidden_size": 32, "intermediate_size": 32, "num_hidden_layers": 1,
    "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 16, "max_position_embeddings": 64})", "tiny");
  vkq::MemorySink sink;
  vkq::synth_model(cfg, sink, {.type = GgmlType::Q4_0, .seed = 1, .threads = 1});
  seeds.emplace_back("llama_tiny_q4_0.gguf", std::move(sink.bytes));
  return seeds;
}
}  // namespace

TEST_CASE("the fuzz seed corpus parses", "[gguf]") {
  const auto files = vkq::test::files_in(std::filesystem::path(VKQ_SOURCE_DIR) / "tests/fuzz/corpus/gguf");
  CHECK(files.size() == fuzz_seeds().size());
  for (const auto& p : files) CHECK_NOTHROW(parse(vkq::test::read_file(p)));
}

TEST_CASE("write the fuzz seed corpus", "[.fuzz-corpus]") {
  const char* out = std::getenv("VKQ_FUZZ_CORPUS_OUT");
  REQUIRE(out);
  for (const auto& [name, bytes] : fuzz_seeds()) {
    std::ofstream f(std::filesystem::path(out) / name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

// Inputs the fuzzer once broke the reader or its users with, replayed
// through the fuzz target's own checks.
TEST_CASE("fuzz findings stay fixed", "[gguf]") {
  const auto files = vkq::test::files_in(std::filesystem::path(VKQ_SOURCE_DIR) / "tests/fuzz/regressions/gguf");
  CHECK(!files.empty());
  for (const auto& p : files) {
    INFO(p);
    const auto b = vkq::test::read_file(p);
    CHECK_NOTHROW(vkq::fuzz::check_gguf_input(b.data(), b.size()));
  }
}
