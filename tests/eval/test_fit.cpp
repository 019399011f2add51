// The fit model's arithmetic against hand-computed values for two configs,
// its verdicts, and memory sizes.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "fit.hpp"
#include "model_configs.hpp"

using Catch::Matchers::ContainsSubstring;
using namespace vkq;

namespace {

LlamaGpuLayout config_layout(const std::string& name, GgmlType t) {
  const auto c = named_model_config(name);
  return llama_gpu_layout(c.hp, t, c.tied_embeddings, c.rope_freqs());
}

}  // namespace

TEST_CASE("fit: TinyLlama 1.1B Q4_0 at 2048 tokens, by hand", "[eval][fit]") {
  // dim 2048, 22 layers, 32 heads (4 KV heads of 64), hidden 5632, vocab
  // 32000, untied output. Q4_0 rows are 18 bytes per 32 weights (16 of
  // nibbles, 2 of fp16 scale), in the GPU layout as in the file.
  const auto layout = config_layout("tinyllama-1.1b", GgmlType::Q4_0);
  const auto caps = eval::hypothetical_device(8ull << 30);
  const auto r = eval::fit_model(layout, caps, {2048, 512, ops::KvType::f16}, 8ull << 30);
  const uint64_t embd = 32000ull * 64 * 18;                               // token_embd, and output
  const uint64_t layer = (2560ull + 2048 + 11264) * 64 * 18 + 2048ull * 176 * 18;  // qkv, o, gate_up, down
  const uint64_t norms = 22ull * 2 * 2048 * 4 + 2048 * 4;
  CHECK(r.component("weights") == 2 * embd + 22 * layer + norms + 4);  // + rope_freqs' one unused float
  CHECK(r.component("kv_cache") == 22ull * 2 * (4 * 64) * 2048 * 2);   // 44 MiB
  // x, xb, att [512][2048]; qkv [512][2560]; gate_up [512][11264];
  // hidden [512][5632]; logits: 524 rows fit 64 MiB, so 512. Decode
  // attention: 32 splits per head (1024 workgroups / 32 heads, the cap;
  // 2048 / 8 rows would allow 256), each (m, l) and 32 pairs of floats; a
  // count per head; decode's dispatch-chain flags, 1 KiB per possible link
  // (five per layer, and eight more).
  CHECK(r.component("activations") == 512ull * 4 * (3 * 2048 + 2560 + 11264 + 5632 + 32000) +
                                          32ull * 32 * (1 + 32) * 8 + 32 * 4 + (5 * 22 + 8) * 1024);
  CHECK(r.component("io") == 16 + 512 * 4 + 512ull * 32000 * 4);
  CHECK(r.component("scratch") == 0);  // no integer dot product on a hypothetical device
  CHECK(r.params == 2 * 32000ull * 2048 + 22 * (2560ull * 2048 + 2048ull * 2048 + 11264ull * 2048 + 2048ull * 5632));
  CHECK(r.raw_weight_bytes == r.params / 2);
  CHECK(r.nominal_bits == 4);
  CHECK(r.component("reserve") == 256ull << 20);
  CHECK(r.component("staging") == 32000ull * 64 * 16);  // the largest plane: token_embd's quants
  CHECK(r.total == r.component("weights") + r.component("kv_cache") + r.component("activations") + r.component("io") +
                       r.component("staging") + r.component("reserve"));
  CHECK(r.fits);
  CHECK(r.verdict() == "fits");
  CHECK(r.max_ctx == 2048);
  CHECK(r.headroom == int64_t(8ull << 30) - int64_t(r.total));
}

TEST_CASE("fit: Llama-2-7B Q8_0 at 4096 tokens, by hand; 70B at 4 bits", "[eval][fit]") {
  const auto layout = config_layout("llama-2-7b", GgmlType::Q8_0);
  const auto caps = eval::hypothetical_device(80ull << 30);
  const auto r = eval::fit_model(layout, caps, {4096, 512, ops::KvType::f16}, 80ull << 30);
  // 6,738,149,376 matrix weights (embedding and output included).
  CHECK(r.params == 6738149376ull);
  CHECK(r.raw_weight_bytes == 6738149376ull);  // 8 bits
  // Q8_0: 34 bytes per 32 weights = 8.5 bits.
  CHECK(r.component("weights") == 6738149376ull / 32 * 34 + 32ull * 2 * 4096 * 4 + 4096 * 4 + 4);
  CHECK(r.component("kv_cache") == 2ull << 30);  // 32 x 2 x 4096 x 4096 x 2 bytes
  CHECK(r.fits);
  // The example: 70B at 4 bits is about 32.6 GiB raw, 36.7 of Q4_0.
  const auto big = eval::fit_model(config_layout("llama-3.1-70b", GgmlType::Q4_0), caps, {8192, 512, ops::KvType::f16},
                                   80ull << 30);
  CHECK(double(big.raw_weight_bytes) / double(1ull << 30) > 32.5);
  CHECK(double(big.raw_weight_bytes) / double(1ull << 30) < 33.0);
  CHECK(double(big.component("weights")) / double(1ull << 30) > 36.5);
  CHECK(double(big.component("weights")) / double(1ull << 30) < 37.1);
  CHECK(big.component("kv_cache") == 80ull * 2 * 8 * 128 * 8192 * 2);  // 2.5 GiB
}

TEST_CASE("fit: verdicts, the largest context and the layers that fit", "[eval][fit]") {
  const auto layout = config_layout("llama-2-7b", GgmlType::Q4_0);
  const uint64_t mem = 6ull << 30;
  const auto caps = eval::hypothetical_device(mem);
  const auto r = eval::fit_model(layout, caps, {4096, 512, ops::KvType::f16}, mem);
  CHECK_FALSE(r.fits);  // 3.5 GiB of weights + 2 GiB of KV + activations and reserve
  CHECK(r.max_ctx > 0);
  CHECK(r.max_ctx < 4096);
  // The largest context is exactly the boundary.
  CHECK(eval::fit_model(layout, caps, {r.max_ctx, 512, ops::KvType::f16}, mem).fits);
  CHECK_FALSE(eval::fit_model(layout, caps, {r.max_ctx + 1, 512, ops::KvType::f16}, mem).fits);
  CHECK(r.layers_that_fit > 0);
  CHECK(r.layers_that_fit < 32);
  CHECK_THAT(r.verdict(), ContainsSubstring("fits only with"));
  const auto tiny = eval::fit_model(layout, caps, {4096, 512, ops::KvType::f16}, 256ull << 20);
  CHECK(tiny.verdict() == "does not fit");
  CHECK(tiny.max_ctx == 0);
  // Beyond the trained context: refused unless forced (then warned).
  CHECK_THROWS_AS(eval::fit_model(layout, caps, {8192, 512, ops::KvType::f16}, mem), InputError);
  const auto forced = eval::fit_model(layout, caps, {8192, 512, ops::KvType::f16, true}, 80ull << 30);
  CHECK(forced.warnings.size() == 1);
  CHECK(forced.max_ctx == 8192);
  // A device that limits buffers to 32 MiB splits the embedding and more.
  auto small = caps;
  small.max_storage_buffer_range = small.max_memory_allocation_size = 32ull << 20;
  CHECK(eval::fit_model(layout, small, {512, 512, ops::KvType::f16}, mem).split_tensors >= 2);
}

TEST_CASE("fit: memory sizes parse; bad ones are input errors", "[eval][fit]") {
  CHECK(eval::parse_memory_size("24GiB") == 24ull << 30);
  CHECK(eval::parse_memory_size("24 G") == 24ull << 30);
  CHECK(eval::parse_memory_size("1.5T") == 3ull << 39);
  CHECK(eval::parse_memory_size("8000MB") == 8000000000ull);
  CHECK(eval::parse_memory_size("512mib") == 512ull << 20);
  CHECK(eval::parse_memory_size("123456") == 123456);
  for (const char* bad : {"", "GiB", "12 parsecs", "1.2.3G", "-4G", "0", "1e30"}) {
    INFO(bad);
    CHECK_THROWS_AS(eval::parse_memory_size(bad), InputError);
  }
}
