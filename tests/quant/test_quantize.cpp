// quantize_model on stories260K: what each tensor becomes, provenance keys,
// RTN bytes equal to ggml's reference, byte-identical output for the same
// inputs (any thread count), --keep, and the refusals, none of which leaves
// a file behind.
#include <filesystem>
#include <map>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "gguf_reader.hpp"
#include "llama_model.hpp"
#include "quant_blocks.hpp"
#include "quantize.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using namespace vkq;
using namespace vkq::quant;

namespace {

const std::string kCalib = std::string(VKQ_SOURCE_DIR) + "/quant/data/calibration.txt";

struct Fixture {
  vkq::test::TempDir dir;
  std::string f32 = dir.write("f32.gguf", vkq::test::stories260k_gguf()).string();

  QuantizeOptions opts(const std::string& out, Method m = Method::rtn, GgmlType t = GgmlType::Q4_0) const {
    QuantizeOptions o;
    o.input = f32;
    o.output = dir.path(out).string();
    o.type = t;
    o.method = m;
    if (m != Method::rtn) {
      o.calib_file = kCalib;
      o.samples = 4;
      o.seq_len = 64;
    }
    return o;
  }
  // Only the input and what the test named are in the folder: no temporary file left.
  void check_files(std::vector<std::string> want) const {
    want.push_back("f32.gguf");
    std::sort(want.begin(), want.end());
    CHECK(dir.list() == want);
  }
};

std::map<std::string, GgmlType> types(const GgufFile& f) {
  std::map<std::string, GgmlType> m;
  for (const auto& t : f.tensors()) m[t.name] = t.type;
  return m;
}

}  // namespace

TEST_CASE("quantize RTN: types, ggml's bytes, metadata", "[quant][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  Fixture fx;
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0}) {
    INFO(ggml_type_name(type));
    const auto o = fx.opts("rtn.gguf", Method::rtn, type);
    const QuantizeReport r = quantize_model(o);
    const auto in = GgufFile::open(fx.f32);
    const auto out = GgufFile::open(o.output);
    CHECK(r.output_bytes == out.file_size());
    REQUIRE(out.tensors().size() == in.tensors().size());
    for (size_t i = 0; i < in.tensors().size(); ++i) {
      const auto& a = in.tensors()[i];
      const auto& b = out.tensors()[i];
      INFO(a.name);
      CHECK(a.name == b.name);
      CHECK(a.ne == b.ne);
      const GgmlType want = a.ne.size() == 1 ? GgmlType::F32 : a.ne[0] % 32 ? GgmlType::F16 : type;
      CHECK(b.type == want);
      // Every tensor is the reference conversion of the F32 one.
      std::vector<uint8_t> ref(b.bytes);
      const uint64_t rb = *ggml_row_bytes(want, a.ne[0]);
      for (uint64_t row = 0; row < a.n_rows(); ++row)
        quantize_row(want, reinterpret_cast<const float*>(a.data) + row * a.ne[0], ref.data() + row * rb, a.ne[0]);
      CHECK(std::equal(ref.begin(), ref.end(), b.data));
      CHECK(r.tensors[i].type == want);
      CHECK(r.tensors[i].bytes == b.bytes);
      if (want == GgmlType::F16) CHECK_THAT(r.tensors[i].note, ContainsSubstring("rows of 172: not a multiple of 32, written F16"));
    }
    const auto& md = out.metadata();
    CHECK(md.get_u32("general.file_type") == llama_file_type(type));
    CHECK(md.get_u32("general.quantization_version") == 2);
    CHECK(md.get_string("vkq.quant.method") == "rtn");
    CHECK(md.get_string("vkq.quant.type") == ggml_type_name(type));
    CHECK(md.get_string("vkq.quant.vkq_version") == VKQ_VERSION);
    CHECK_FALSE(md.contains("vkq.quant.calibration_sha256"));  // no calibration
    CHECK(md.get_strings("tokenizer.ggml.tokens") == in.metadata().get_strings("tokenizer.ggml.tokens"));
    CHECK(out.alignment() == 32);
    CHECK_NOTHROW(LlamaModel::open(o.output));
  }
  fx.check_files({"rtn.gguf"});
}

TEST_CASE("quantize GPTQ / AWQ: provenance, report, lower output error than RTN", "[quant][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  Fixture fx;
  for (const Method m : {Method::gptq, Method::awq}) {
    INFO(method_name(m));
    auto o = fx.opts(std::string(method_name(m)) + ".gguf", m);
    o.seed = 42;
    const QuantizeReport r = quantize_model(o);
    const auto out = GgufFile::open(o.output);
    const auto& md = out.metadata();
    CHECK(md.get_string("vkq.quant.method") == method_name(m));
    CHECK(md.get_string("vkq.quant.calibration_file") == "calibration.txt");
    CHECK(md.get_string("vkq.quant.calibration_sha256") == r.calib_sha256);
    CHECK(r.calib_sha256.size() == 64);
    CHECK(md.get_u32("vkq.quant.samples") == 4);
    CHECK(md.get_u32("vkq.quant.seq_len") == 64);
    CHECK(md.get_uint("vkq.quant.seed") == 42);
    CHECK(md.get_u32("vkq.quant.group_size") == 32);
    CHECK(md.contains("vkq.quant.act_order") == (m == Method::gptq));
    CHECK_NOTHROW(LlamaModel::open(o.output));
    // Every Q4_0 linear has both errors; together the method's is lower.
    double e = 0, e_rtn = 0;
    int measured = 0;
    for (const auto& t : r.tensors) {
      if (t.type != GgmlType::Q4_0) continue;
      INFO(t.name);
      REQUIRE(t.mse >= 0);
      REQUIRE(t.mse_rtn >= 0);
      e += t.mse;
      e_rtn += t.mse_rtn;
      ++measured;
    }
    CHECK(measured == 1 + 5 * 6);  // token_embd (the tied classifier) and 6 per block
    CHECK(e < 0.9 * e_rtn);
    const auto j = r.to_json();
    CHECK(j["schema"] == "vkq.quantize/1");
    CHECK(j["tensors"].size() == out.tensors().size());
    CHECK(j["tensors"][1]["mse"].is_null());  // a norm
  }
  fx.check_files({"gptq.gguf", "awq.gguf"});
}

TEST_CASE("quantize: the same inputs and seed give the same bytes, on any thread count", "[quant][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  Fixture fx;
  for (const Method m : {Method::gptq, Method::awq}) {
    INFO(method_name(m));
    auto a = fx.opts("a.gguf", m), b = fx.opts("b.gguf", m), c = fx.opts("c.gguf", m);
    a.threads = 1;
    b.threads = 3;
    c.seed = 1;
    quantize_model(a);
    quantize_model(b);
    quantize_model(c);
    const auto ba = vkq::test::read_file(a.output);
    CHECK(ba == vkq::test::read_file(b.output));
    CHECK(ba != vkq::test::read_file(c.output));
  }
}

TEST_CASE("quantize --keep pins types by glob", "[quant][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  Fixture fx;
  auto o = fx.opts("keep.gguf");
  o.keep = {{"token_embd.weight", GgmlType::Q8_0}, {"blk.*.attn_v.weight", GgmlType::F16}, {"blk.[01].*", GgmlType::Q4_1}};
  const auto r = quantize_model(o);
  auto t = types(GgufFile::open(o.output));
  CHECK(t["token_embd.weight"] == GgmlType::Q8_0);
  CHECK(t["blk.3.attn_v.weight"] == GgmlType::F16);
  CHECK(t["blk.0.attn_v.weight"] == GgmlType::F16);  // the first matching glob wins
  CHECK(t["blk.0.attn_q.weight"] == GgmlType::Q4_1);
  CHECK(t["blk.1.ffn_gate.weight"] == GgmlType::Q4_1);
  CHECK(t["blk.2.ffn_gate.weight"] == GgmlType::Q4_0);
  CHECK(t["blk.0.attn_norm.weight"] == GgmlType::F32);  // norms stay F32
  CHECK(t["blk.0.ffn_down.weight"] == GgmlType::F16);   // Q4_1 cannot hold rows of 172
  CHECK(r.tensors[0].note == "kept Q8_0 (--keep token_embd.weight)");
  for (const auto& tr : r.tensors)
    if (tr.name == "blk.1.ffn_down.weight") CHECK(tr.note == "rows of 172: not a multiple of 32, written F16");

  o.keep = {{"output.weight", GgmlType::Q8_0}};  // tied: there is no output.weight
  CHECK_THROWS_WITH(quantize_model(o), ContainsSubstring("--keep output.weight=Q8_0: the glob matches no weight matrix"));
  o.keep = {{"blk.*.attn_norm.weight", GgmlType::Q8_0}};  // matches only norms, which stay F32
  CHECK_THROWS_WITH(quantize_model(o), ContainsSubstring("the glob matches no weight matrix"));
}

TEST_CASE("quantize refuses bad input with InputError and leaves no file", "[quant][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  Fixture fx;
  auto refused = [&](QuantizeOptions o, const std::string& what) {
    INFO(what);
    try {
      quantize_model(o);
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), ContainsSubstring(what));
    }
  };
  auto o = fx.opts("out.gguf");
  o.type = GgmlType::Q4_K;
  refused(o, "--type Q4_K: the quantizer writes q4_0, q4_1 or q8_0");
  o = fx.opts("out.gguf", Method::gptq);
  o.calib_file.clear();
  refused(o, "--method gptq needs calibration text");
  const std::string blank = "\n \n";
  o = fx.opts("out.gguf", Method::awq);
  o.calib_file = fx.dir.write("blank.txt", {blank.begin(), blank.end()}).string();
  refused(o, "the calibration text is empty");
  const std::string tiny = "Once upon a time.";
  o.calib_file = fx.dir.write("tiny.txt", {tiny.begin(), tiny.end()}).string();
  refused(o, "windows of --seq-len 64 need at least 63");
  o = fx.opts("out.gguf", Method::gptq);
  o.device = "0";
  refused(o, "calibration runs on the CPU reference for now");
  o = fx.opts("out.gguf", Method::gptq);
  o.seq_len = 1000;
  refused(o, "--seq-len 1000 is longer than");
  o = fx.opts("out.gguf");
  o.output = fx.f32;
  refused(o, "the output would overwrite the input");
  // An already-quantized input.
  const auto q = fx.dir.write("q8.gguf", vkq::test::stories260k_requantized(GgmlType::Q8_0));
  o = fx.opts("out.gguf");
  o.input = q.string();
  refused(o, "tensor 'token_embd.weight' is already Q8_0");
  fx.check_files({"blank.txt", "tiny.txt", "q8.gguf"});
}

TEST_CASE("quantize: a run stopped while writing leaves no file", "[quant][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  Fixture fx;
  auto o = fx.opts("out.gguf", Method::gptq);
  int writing = 0;
  o.progress = [&](double, const std::string& what) {
    if (what.rfind("writing", 0) == 0 && ++writing == 20) throw std::runtime_error("stop");
  };
  CHECK_THROWS_WITH(quantize_model(o), "stop");
  CHECK(writing == 20);
  fx.check_files({});
}
