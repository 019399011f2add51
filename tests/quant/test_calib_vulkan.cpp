// The quantizer's calibration on a Vulkan device (quant/calib_vulkan.hpp):
// each op against the CPU reference's (CalibBatch) on stories260K's real
// weights and activations, and a whole GPTQ run calibrated on the device.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <catch2/catch_test_macros.hpp>

#include "calib_forward.hpp"
#include "calib_vulkan.hpp"
#include "gguf_reader.hpp"
#include "quantize.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"
#include "support/gguf_builder.hpp"

using namespace vkq;

namespace {

TensorView view(const LlamaModel& m, const std::string& name) {
  const auto& t = m.file().tensor(name);
  return TensorView::make(name, t.type, t.row_length(), t.n_rows(), t.data);
}

}  // namespace

TEST_CASE("Vulkan calibration ops match the CPU reference's", "[gpu][quant][calibration]") {
  VKQ_REQUIRE_STORIES260K();
  auto& dev = test::device();
  const auto loaded = test::load_stories260k(GgmlType::F32);
  const LlamaModel& m = *loaded.model;
  const auto& hp = m.hparams();
  // Three windows of real text-like tokens at positions 0 .. L-1 each.
  const auto story = test::story_tokens(m, 120);
  std::vector<std::vector<int32_t>> windows;
  for (size_t w = 0; w < 3; ++w) windows.emplace_back(story.begin() + 40 * w, story.begin() + 40 * (w + 1));
  const quant::CalibBatch cpu(hp, windows, 2);
  const quant::VulkanCalibBatch gpu(dev, hp, windows, 2);
  CHECK(gpu.device_name() == dev.caps().name);
  // fp32 GEMM on devices without cooperative matrices (lavapipe); fp16
  // inputs on those with them.
  const double tol = dev.caps().coopmat ? 5e-3 : 1e-4;

  const auto x = cpu.embed(view(m, "token_embd.weight"));
  const auto norm_w = view(m, "blk.1.attn_norm.weight").to_floats();
  const auto xb = cpu.rmsnorm(x, norm_w);
  CHECK(test::max_rel_diff(gpu.rmsnorm(x, norm_w), xb) <= 1e-5);

  const auto q = cpu.linear(view(m, "blk.1.attn_q.weight"), xb);
  const auto k = cpu.linear(view(m, "blk.1.attn_k.weight"), xb);
  const auto v = cpu.linear(view(m, "blk.1.attn_v.weight"), xb);
  CHECK(test::max_rel_diff(gpu.linear(view(m, "blk.1.attn_q.weight"), xb), q) <= tol);
  CHECK(test::max_rel_diff(gpu.linear(view(m, "blk.1.attn_k.weight"), xb), k) <= tol);

  const auto att = cpu.attention(q, k, v, {});
  CHECK(test::max_rel_diff(gpu.attention(q, k, v, {}), att) <= 1e-5);

  const auto gate = cpu.linear(view(m, "blk.1.ffn_gate.weight"), xb);
  const auto up = cpu.linear(view(m, "blk.1.ffn_up.weight"), xb);
  CHECK(test::max_rel_diff(gpu.swiglu(gate, up), cpu.swiglu(gate, up)) <= 1e-5);
  // The down projection's rows of 172 (not a multiple of the block size).
  const auto h = cpu.swiglu(gate, up);
  CHECK(test::max_rel_diff(gpu.linear(view(m, "blk.1.ffn_down.weight"), h),
                           cpu.linear(view(m, "blk.1.ffn_down.weight"), h)) <= tol);
}

TEST_CASE("quantize GPTQ calibrated on a Vulkan device: the CPU run's errors, reproducible", "[gpu][quant][calibration]") {
  VKQ_REQUIRE_STORIES260K();
  const auto& caps = test::device().caps();
  test::TempDir dir;
  const auto f32 = dir.write("f32.gguf", test::stories260k_gguf()).string();
  auto opts = [&](const std::string& out, const std::string& device) {
    quant::QuantizeOptions o;
    o.input = f32;
    o.output = dir.path(out).string();
    o.type = GgmlType::Q4_0;
    o.method = quant::Method::gptq;
    o.calib_file = std::string(VKQ_SOURCE_DIR) + "/quant/data/calibration.txt";
    o.samples = 8;
    o.seq_len = 64;
    o.device = device;
    return o;
  };
  const auto cpu = quant::quantize_model(opts("cpu.gguf", "cpu"));
  const auto gpu = quant::quantize_model(opts("gpu.gguf", caps.name));
  const auto again = quant::quantize_model(opts("again.gguf", caps.name));
  CHECK(cpu.calib_device == "cpu");
  CHECK(gpu.calib_device == caps.name);
  CHECK(GgufFile::open(dir.path("gpu.gguf").string()).metadata().get_string("vkq.quant.calibration_device") == caps.name);
  CHECK(test::read_file(dir.path("gpu.gguf")) == test::read_file(dir.path("again.gguf")));
  // Per tensor, the method's output error on the calibration data: the
  // device's activations are the CPU's to rounding, so the errors agree
  // closely (and stay below RTN's).
  REQUIRE(gpu.tensors.size() == cpu.tensors.size());
  size_t compared = 0;
  for (size_t i = 0; i < cpu.tensors.size(); ++i) {
    const auto &a = cpu.tensors[i], &b = gpu.tensors[i];
    REQUIRE(a.name == b.name);
    if (a.mse < 0 || a.type == GgmlType::F32 || a.type == GgmlType::F16) continue;
    INFO(a.name << ": cpu mse " << a.mse << ", device mse " << b.mse);
    CHECK(std::abs(b.mse - a.mse) <= 0.02 * a.mse);
    CHECK(b.mse <= b.mse_rtn);
    ++compared;
  }
  CHECK(compared >= 20);
}
