// The llama tensor table and check_llama_tensors: missing tensors and wrong
// shapes are named; the count is checked before any table is built.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "byte_sink.hpp"
#include "error.hpp"
#include "gguf_reader.hpp"
#include "gguf_writer.hpp"
#include "llama_tensors.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;

namespace {

const vkq::LlamaHParams kHp{.context_length = 64, .embedding_length = 32, .block_count = 2, .feed_forward_length = 64,
                            .head_count = 4, .head_count_kv = 2, .vocab_size = 10, .rope_dimension_count = 8};

// A GGUF with the given tensors (zero data), no metadata.
std::vector<uint8_t> file_with(const std::vector<vkq::LlamaTensorSpec>& specs) {
  vkq::GgufWriter w(vkq::GgufMetadata("t.gguf"));
  for (const auto& s : specs) w.add_tensor(s.name, GgmlType::F32, s.ne);
  vkq::MemorySink sink;
  w.begin(sink);
  for (const auto& t : w.tensors()) {
    const std::vector<uint8_t> zeros(t.bytes);
    w.write(zeros.data(), zeros.size());
  }
  w.finish();
  return std::move(sink.bytes);
}

}  // namespace

TEST_CASE("llama tensor table: llama.cpp's names and ggml-order shapes", "[llama]") {
  const auto s = vkq::llama_tensor_specs(kHp);
  REQUIRE(s.size() == 2 * 9 + 3);
  CHECK(s[0].name == "token_embd.weight");
  CHECK(s[0].ne == std::vector<uint64_t>{32, 10});
  CHECK(s[3].name == "blk.0.attn_k.weight");
  CHECK(s[3].ne == std::vector<uint64_t>{32, 16});  // kv_dim = 32 / 4 * 2
  CHECK(s[9].name == "blk.0.ffn_down.weight");
  CHECK(s[9].ne == std::vector<uint64_t>{64, 32});
  CHECK(s.back().name == "output.weight");
  CHECK(vkq::llama_tensor_specs(kHp, {.tied_output = true}).back().name == "output_norm.weight");
  CHECK(vkq::llama_tensor_specs(kHp, {.rope_freqs = true})[1].ne == std::vector<uint64_t>{4});
}

TEST_CASE("check_llama_tensors names the missing or misshapen tensor", "[llama]") {
  auto specs = vkq::llama_tensor_specs(kHp, {.tied_output = true});
  auto bytes = file_with(specs);
  CHECK_NOTHROW(vkq::check_llama_tensors(vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "t.gguf"), kHp));

  auto missing = specs;
  missing.erase(missing.begin() + 5);  // blk.0.attn_output.weight
  missing.push_back({"extra.weight", {4}, vkq::LlamaTensorKind::norm});
  bytes = file_with(missing);
  CHECK_THROWS_WITH(vkq::check_llama_tensors(vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "t.gguf"), kHp),
                    "t.gguf: tensor 'blk.0.attn_output.weight' is missing");

  auto transposed = specs;
  std::swap(transposed[9].ne[0], transposed[9].ne[1]);  // ffn_down stored as {dim, hidden}
  bytes = file_with(transposed);
  CHECK_THROWS_WITH(vkq::check_llama_tensors(vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "t.gguf"), kHp),
                    "t.gguf: tensor 'blk.0.ffn_down.weight' has shape 32 x 64, expected 64 x 32");

  // A block count the tensor list cannot hold is refused before any table is built.
  auto huge = kHp;
  huge.block_count = 4000000000u;
  bytes = file_with(specs);
  CHECK_THROWS_WITH(vkq::check_llama_tensors(vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "t.gguf"), huge),
                    ContainsSubstring("llama.block_count = 4000000000 needs at least 36000000002 tensors, the file has 20"));
}
