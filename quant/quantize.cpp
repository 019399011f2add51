#include "quantize.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "block_grid.hpp"
#include "calibration.hpp"
#include "error.hpp"
#include "gguf_writer.hpp"
#include "llama_hparams.hpp"
#include "llama_model.hpp"
#include "pipeline.hpp"
#include "quant_blocks.hpp"
#include "tensor_plan.hpp"
#include "tokenizer.hpp"

namespace vkq::quant {

const char* method_name(Method m) {
  switch (m) {
    case Method::rtn: return "rtn";
    case Method::gptq: return "gptq";
    case Method::awq: return "awq";
  }
  return "?";
}

std::optional<Method> parse_method(const std::string& s) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const Method m : {Method::rtn, Method::gptq, Method::awq})
    if (l == method_name(m)) return m;
  return std::nullopt;
}

nlohmann::json QuantizeReport::to_json() const {
  nlohmann::ordered_json ts = nlohmann::ordered_json::array();
  for (const auto& t : tensors) {
    nlohmann::ordered_json j = {{"name", t.name}, {"type", ggml_type_name(t.type)}, {"bytes", t.bytes}};
    j["mse"] = t.mse >= 0 ? nlohmann::ordered_json(t.mse) : nlohmann::ordered_json(nullptr);
    j["mse_rtn"] = t.mse_rtn >= 0 ? nlohmann::ordered_json(t.mse_rtn) : nlohmann::ordered_json(nullptr);
    if (!t.note.empty()) j["note"] = t.note;
    ts.push_back(std::move(j));
  }
  nlohmann::ordered_json j = {{"schema", "vkq.quantize/1"},
                              {"vkq_version", VKQ_VERSION},
                              {"method", method},
                              {"type", ggml_type_name(type)},
                              {"calibration_sha256", calib_sha256},
                              {"samples", samples},
                              {"seq_len", seq_len},
                              {"seed", seed},
                              {"output_bytes", output_bytes},
                              {"seconds", seconds},
                              {"warnings", warnings},
                              {"tensors", std::move(ts)}};
  return j;
}

namespace {

constexpr uint32_t kGgmlQuantizationVersion = 2;  // llama.cpp's GGML_QNT_VERSION, written as general.quantization_version

void check_options(const QuantizeOptions& o) {
  if (o.type != GgmlType::Q4_0 && o.type != GgmlType::Q4_1 && o.type != GgmlType::Q8_0)
    throw InputError(fmt::format("--type {}: the quantizer writes q4_0, q4_1 or q8_0", ggml_type_name(o.type)));
  if (o.method != Method::rtn && o.calib_file.empty())
    throw InputError(fmt::format("--method {} needs calibration text (--calib FILE)", method_name(o.method)),
                     "quant/data/calibration.txt suits TinyStories models");
  if (o.input.empty() || o.output.empty()) throw InputError("quantize: give an input and an output file");
  std::error_code ec;
  if (std::filesystem::equivalent(o.input, o.output, ec))
    throw InputError(fmt::format("{}: the output would overwrite the input", o.output));
  const auto dir = std::filesystem::absolute(o.output).parent_path();
  if (!std::filesystem::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
    throw InputError(fmt::format("{}: cannot write into {}", o.output, dir.string()));
  if (!o.calib_file.empty() && o.device != "cpu" && !o.device.empty())
    throw InputError(fmt::format("--device {}: calibration runs on the CPU reference for now", o.device),
                     "use --device cpu (GPU calibration is planned)");
  if (o.act_order && o.method != Method::gptq) throw InputError("--act-order is a GPTQ option (--method gptq)");
  if (!(o.damp > 0 && o.damp <= 1)) throw InputError(fmt::format("--damp {}: expected a fraction in (0, 1]", o.damp));
}

GgufMetadata output_metadata(const QuantizeOptions& o, const GgufFile& in, const QuantizeReport& r) {
  GgufMetadata md = in.metadata();
  md.set_source(o.output);
  md.set("general.file_type", GgufValue::u32(llama_file_type(o.type)));
  md.set("general.quantization_version", GgufValue::u32(kGgmlQuantizationVersion));
  for (const auto& [key, v] : in.metadata().entries())
    if (key.rfind("vkq.quant.", 0) == 0) md.erase(key);
  md.set("vkq.quant.method", GgufValue::string(r.method));
  md.set("vkq.quant.type", GgufValue::string(ggml_type_name(o.type)));
  md.set("vkq.quant.group_size", GgufValue::u32(kQK));
  if (!o.calib_file.empty()) {
    md.set("vkq.quant.calibration_file", GgufValue::string(std::filesystem::path(o.calib_file).filename().string()));
    md.set("vkq.quant.calibration_sha256", GgufValue::string(r.calib_sha256));
    md.set("vkq.quant.samples", GgufValue::u32(r.samples));
    md.set("vkq.quant.seq_len", GgufValue::u32(r.seq_len));
    md.set("vkq.quant.seed", GgufValue::u64(r.seed));
  }
  if (o.method == Method::gptq) {
    md.set("vkq.quant.act_order", GgufValue::boolean(o.act_order));
    md.set("vkq.quant.damp", GgufValue::f32(float(o.damp)));
  }
  md.set("vkq.quant.vkq_version", GgufValue::string(VKQ_VERSION));
  return md;
}

// A tensor of the input converted to its planned type without calibration:
// RTN for block types, plain conversion otherwise.
std::vector<uint8_t> convert_tensor(const GgufTensorInfo& t, GgmlType type) {
  const uint64_t cols = t.row_length(), rows = t.n_rows();
  const uint64_t in_rb = *ggml_row_bytes(t.type, cols), out_rb = *ggml_row_bytes(type, cols);
  std::vector<uint8_t> out(rows * out_rb);
  std::vector<float> row(cols);
  for (uint64_t r = 0; r < rows; ++r) {
    dequantize_row(t.type, t.data + r * in_rb, row.data(), cols);
    quantize_row(type, row.data(), out.data() + r * out_rb, cols);
  }
  return out;
}

}  // namespace

QuantizeReport quantize_model(const QuantizeOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(o);
  const LlamaModel model = LlamaModel::open(o.input);
  const auto plan = plan_tensors(model.file(), o.type, o.keep);

  QuantizeReport report;
  report.method = method_name(o.method);
  report.type = o.type;
  std::vector<std::string> warnings;
  std::map<std::string, QuantizedTensor> done;
  if (!o.calib_file.empty()) {
    const CalibrationText calib = read_calibration_text(o.calib_file);
    report.calib_sha256 = calib.sha256;
    report.samples = o.samples;
    report.seq_len = o.seq_len;
    report.seed = o.seed;
    if (o.seq_len > model.hparams().context_length)
      throw InputError(fmt::format("--seq-len {} is longer than {}'s context of {} tokens", o.seq_len, o.input,
                                   model.hparams().context_length));
    const auto tok = make_tokenizer(model.metadata());
    const auto windows = calibration_windows(tok->encode(calib.text, false), tok->vocab().bos, o.samples, o.seq_len,
                                             o.seed, o.calib_file);
    QuantizeOptions oc = o;  // the calibrated part is the first 95% of the progress
    if (o.progress) oc.progress = [&](double f, const std::string& what) { o.progress(0.95 * f, what); };
    done = quantize_calibrated(oc, model, plan, windows, warnings);
  }

  GgufWriter w(output_metadata(o, model.file(), report));
  for (size_t i = 0; i < plan.size(); ++i) w.add_tensor(plan[i].name, plan[i].type, model.file().tensors()[i].ne);
  AtomicOutputFile out(o.output);
  w.begin(out.sink());
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto& p = plan[i];
    const auto& t = model.file().tensors()[i];
    TensorReport tr{p.name, p.type, p.note, 0, -1, -1};
    const auto it = done.find(p.name);
    if (it != done.end()) {
      const QuantizedTensor& q = it->second;
      if (q.q.type != p.type || q.q.data.size() != w.tensors()[i].bytes)
        throw std::logic_error("quantize: tensor '" + p.name + "' came out in the wrong type or size");
      w.write(q.q.data.data(), q.q.data.size());
      tr.mse = q.mse;
      tr.mse_rtn = q.mse_rtn;
      if (!q.note.empty()) tr.note += (tr.note.empty() ? "" : "; ") + q.note;
    } else {
      const auto bytes = convert_tensor(t, p.type);
      w.write(bytes.data(), bytes.size());
    }
    tr.bytes = w.tensors()[i].bytes;
    report.tensors.push_back(std::move(tr));
    if (o.progress) o.progress((done.empty() ? 0.0 : 0.95) + (done.empty() ? 1.0 : 0.05) * double(i + 1) / double(plan.size()),
                               "writing " + o.output);
  }
  w.finish();
  out.commit();
  report.output_bytes = w.bytes_written();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.warnings = std::move(warnings);
  return report;
}

}  // namespace vkq::quant
