// LlamaModel: hyperparameters and tensor views of stories260K in several
// weight types, tied and separate classifiers, and refusal of inconsistent
// files naming the key or tensor.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "gguf_reader.hpp"
#include "llama_model.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;
using vkq::test::GgufParts;

namespace {

vkq::LlamaModel load(const std::vector<uint8_t>& bytes) {
  return vkq::LlamaModel(vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "stories260K.gguf"));
}

}  // namespace

TEST_CASE("LlamaModel: stories260K's hyperparameters and tensor views", "[llama][model]") {
  VKQ_REQUIRE_STORIES260K();
  const auto bytes = vkq::test::stories260k_gguf();
  auto m = load(bytes);
  const auto& hp = m.hparams();
  CHECK(hp.embedding_length == 64);
  CHECK(hp.feed_forward_length == 172);
  CHECK(hp.block_count == 5);
  CHECK(hp.head_count == 8);
  CHECK(hp.head_count_kv == 4);
  CHECK(hp.vocab_size == 512);
  CHECK(hp.context_length == 512);
  CHECK(m.tied_output());
  CHECK(m.output().name == "token_embd.weight");
  CHECK(m.output().data == m.token_embd().data);
  CHECK(!m.rope_freqs());
  REQUIRE(m.layers().size() == 5);
  const auto& down = m.layers()[4].ffn_down;
  CHECK(down.name == "blk.4.ffn_down.weight");
  CHECK(down.type == GgmlType::F32);
  CHECK(down.cols == 172);
  CHECK(down.rows == 64);
  CHECK(down.row_bytes == 172 * 4);
  CHECK(m.layers()[0].attn_k.rows == 32);  // kv_dim
  // Views point into the file's bytes, nothing is copied.
  const auto* info = m.file().find_tensor("blk.4.ffn_down.weight");
  CHECK(down.data == info->data);
  CHECK(down.data >= bytes.data());
  CHECK(down.data + down.bytes() <= bytes.data() + bytes.size());

  // The model moves without invalidating its views.
  const vkq::LlamaModel moved = std::move(m);
  CHECK(moved.layers()[4].ffn_down.data == info->data);
}

TEST_CASE("LlamaModel: any weight type, blocks only where rows are whole blocks", "[llama][model]") {
  VKQ_REQUIRE_STORIES260K();
  for (const auto type : {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1}) {
    INFO(vkq::ggml_type_name(type));
    const auto bytes = vkq::test::stories260k_requantized(type);
    const auto m = load(bytes);
    CHECK(m.token_embd().type == type);
    CHECK(m.layers()[0].attn_q.type == type);
    CHECK(m.layers()[0].ffn_gate.type == type);
    const bool plain = type == GgmlType::F16 || type == GgmlType::BF16;
    CHECK(m.layers()[0].ffn_down.type == (plain ? type : GgmlType::F32));  // rows of 172
    CHECK(m.layers()[0].attn_norm.type == GgmlType::F32);
    std::vector<float> row(64);
    m.token_embd().dequantize_row(1, row.data());
    CHECK(row[0] != 0.0f);
  }
}

TEST_CASE("LlamaModel: a separate output.weight is used when present", "[llama][model]") {
  VKQ_REQUIRE_STORIES260K();
  auto parts = GgufParts::read(vkq::test::stories260k_gguf());
  auto out = *parts.find("token_embd.weight");
  out.name = "output.weight";
  parts.tensors.push_back(out);
  const auto bytes = parts.write();
  const auto m = load(bytes);
  CHECK(!m.tied_output());
  CHECK(m.output().name == "output.weight");
  CHECK(m.output().data != m.token_embd().data);
}

TEST_CASE("LlamaModel refuses inconsistent files, naming the key or tensor", "[llama][model]") {
  VKQ_REQUIRE_STORIES260K();
  const auto good = GgufParts::read(vkq::test::stories260k_gguf());
  auto refused = [](const GgufParts& p, const std::string& what) {
    const auto bytes = p.write();
    CHECK_THROWS_WITH(load(bytes), ContainsSubstring(what));
    CHECK_THROWS_AS(load(bytes), vkq::InputError);
  };
  {
    auto p = good;
    p.metadata.erase("llama.attention.layer_norm_rms_epsilon");
    refused(p, "stories260K.gguf: key 'llama.attention.layer_norm_rms_epsilon' is missing");
  }
  {
    auto p = good;
    p.metadata.set("llama.feed_forward_length", vkq::GgufValue::u32(128));
    refused(p, "tensor 'blk.0.ffn_gate.weight' has shape 64 x 172, expected 64 x 128");
  }
  {
    auto p = good;
    p.reshape("blk.1.attn_k.weight", {64, 64});
    refused(p, "tensor 'blk.1.attn_k.weight' has shape 64 x 64, expected 64 x 32");
  }
  {
    auto p = good;
    p.find("blk.2.ffn_up.weight")->name = "blk.2.ffn_upp.weight";  // same count, one name missing
    refused(p, "tensor 'blk.2.ffn_up.weight' is missing");
  }
}
