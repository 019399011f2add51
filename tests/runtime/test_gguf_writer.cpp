// GGUF writer: llama.cpp's layout, streaming in any chunking, and a
// write -> read -> write round trip that is byte-identical.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>

#include "atomic_file.hpp"
#include "byte_sink.hpp"
#include "error.hpp"
#include "gguf_reader.hpp"
#include "gguf_writer.hpp"
#include "support/gguf_builder.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;
using vkq::GgufFile;
using vkq::GgufValue;
using vkq::GgufWriter;
using vkq::MemorySink;

TEST_CASE("write -> read -> write is byte-identical", "[gguf]") {
  for (uint32_t alignment : {32u, 64u, 1u}) {
    INFO("alignment " << alignment);
    const auto first = vkq::test::small_gguf(alignment);
    const auto f = GgufFile::from_memory(first.data(), first.size());
    MemorySink again;
    vkq::write_gguf_copy(f, again);
    CHECK(again.bytes == first);
  }
}

TEST_CASE("a converted model round-trips byte for byte through a file", "[gguf]") {
  vkq::test::TempDir dir;
  const auto bytes = vkq::test::stories260k_gguf(GgmlType::F16);
  const auto f = GgufFile::open(dir.write("s.gguf", bytes).string());
  MemorySink again;
  vkq::write_gguf_copy(f, again);
  CHECK(again.bytes == bytes);
}

TEST_CASE("writer layout is llama.cpp's: header, infos, padding, padded tensors", "[gguf]") {
  vkq::GgufMetadata md;
  md.set("general.architecture", GgufValue::string("llama"));
  GgufWriter w(md);
  const auto& a = w.add_tensor("a", GgmlType::F32, {3});      // 12 bytes -> padded to 32
  CHECK(a.offset == 0);
  const auto& b = w.add_tensor("b", GgmlType::Q8_0, {32, 2});  // 68 bytes
  CHECK(b.offset == 32);
  CHECK(b.bytes == 68);
  // header 24 + kv (8 + 20 + 4 + 8 + 5) + infos (8+1+4+8+4+8) + (8+1+4+16+4+8) = 135 -> 160
  CHECK(w.data_offset() == 160);
  CHECK(w.file_size() == 160 + 32 + 96);

  MemorySink whole, bytewise;
  std::vector<uint8_t> data(12 + 68);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 1);
  GgufWriter w1(md), w2(md);
  for (auto* x : {&w1, &w2}) {
    x->add_tensor("a", GgmlType::F32, {3});
    x->add_tensor("b", GgmlType::Q8_0, {32, 2});
  }
  w1.begin(whole);
  w1.write(data.data(), data.size());  // spans both tensors
  w1.finish();
  w2.begin(bytewise);
  for (const uint8_t c : data) w2.write(&c, 1);
  w2.finish();
  CHECK(whole.bytes == bytewise.bytes);
  REQUIRE(whole.bytes.size() == w.file_size());
  CHECK(std::equal(data.begin(), data.begin() + 12, whole.bytes.begin() + 160));
  CHECK(std::all_of(whole.bytes.begin() + 172, whole.bytes.begin() + 192, [](uint8_t c) { return c == 0; }));
  CHECK(std::equal(data.begin() + 12, data.end(), whole.bytes.begin() + 192));
  const auto f = GgufFile::from_memory(whole.bytes.data(), whole.bytes.size());
  CHECK(f.tensor("b").data[0] == data[12]);
}

TEST_CASE("writer refuses bad tensors and misuse", "[gguf]") {
  GgufWriter w(vkq::GgufMetadata("out.gguf"));
  w.add_tensor("ok", GgmlType::F32, {4});
  CHECK_THROWS_WITH(w.add_tensor("ok", GgmlType::F32, {4}), "out.gguf: duplicate tensor 'ok'");
  CHECK_THROWS_WITH(w.add_tensor(std::string(64, 'x'), GgmlType::F32, {4}), ContainsSubstring("at most 63"));
  CHECK_THROWS_WITH(w.add_tensor("q", GgmlType::Q4_0, {48}), ContainsSubstring("row length 48 is not a multiple of the Q4_0 block size 32"));
  CHECK_THROWS_WITH(w.add_tensor("z", GgmlType::F32, {4, 0}), ContainsSubstring("dimension 1 is 0"));
  CHECK_THROWS_WITH(w.add_tensor("d", GgmlType::F32, {1, 1, 1, 1, 1}), ContainsSubstring("5 dimensions"));
  CHECK_THROWS_AS(w.add_tensor("", GgmlType::F32, {1}), vkq::InputError);
  MemorySink s;
  w.begin(s);
  const float x[3] = {};
  w.write(x, sizeof(x));
  CHECK_THROWS_AS(w.finish(), std::logic_error);  // 12 of 16 bytes
  CHECK_THROWS_AS(w.write(x, 8), std::logic_error);  // past the last tensor
  CHECK_THROWS_AS(w.add_tensor("late", GgmlType::F32, {1}), std::logic_error);

  vkq::GgufMetadata bad;
  bad.set("general.alignment", GgufValue::u32(3));
  CHECK_THROWS_WITH(GgufWriter(bad), ContainsSubstring("general.alignment"));
}

TEST_CASE("atomic output files appear only on commit", "[gguf]") {
  vkq::test::TempDir dir;
  const auto out = dir.path("m.gguf").string();
  {
    vkq::AtomicOutputFile f(out);
    f.sink().write("abc", 3);
    CHECK(dir.list().size() == 1);
    CHECK(dir.list()[0].starts_with("m.gguf.tmp-"));
  }  // no commit: removed
  CHECK(dir.list().empty());
  {
    vkq::AtomicOutputFile f(out);
    f.sink().write("abc", 3);
    f.commit();
  }
  CHECK(dir.list() == std::vector<std::string>{"m.gguf"});
  CHECK(vkq::test::read_file(out) == std::vector<uint8_t>{'a', 'b', 'c'});
  CHECK_THROWS_WITH(vkq::AtomicOutputFile(dir.path("no/such/dir/x.gguf").string()), ContainsSubstring("cannot create"));
}
