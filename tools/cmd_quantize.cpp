// vkq quantize IN.gguf OUT.gguf --type q4_0|q4_1|q8_0 [--method rtn|gptq|awq]
//   [--calib FILE] [--samples N] [--seq-len L] [--keep GLOB=TYPE ...]
//   [--device D] [--seed S] [--act-order] [--threads N] [--report FILE.json]
// The offline quantizer (quant/quantize.hpp): writes OUT atomically, prints
// one summary line, and with --report a JSON document of every tensor's
// type, bytes and output error on the calibration data (method and RTN).
// Ctrl-C stops at the next step and leaves no output file behind.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "progress.hpp"
#include "quantize.hpp"

namespace vkq::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int) { g_interrupted = 1; }

// SIGINT / SIGTERM set a flag that the progress callback turns into an
// exception, so the output's temporary file is removed on the way out; a
// second signal kills as usual.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

struct Opts {
  std::string input, output, type, method = "rtn", calib, device = "cpu", report;
  std::vector<std::string> keep;
  uint32_t samples = 128, seq_len = 256;
  uint64_t seed = 0;
  unsigned threads = 0;
  bool act_order = false;
  double damp = 0.01;
};

quant::QuantizeOptions parse(const Opts& o) {
  quant::QuantizeOptions q;
  q.input = o.input;
  q.output = o.output;
  const auto type = parse_ggml_type(o.type);
  if (!type || (*type != GgmlType::Q4_0 && *type != GgmlType::Q4_1 && *type != GgmlType::Q8_0))
    throw InputError(fmt::format("--type '{}' is not q4_0, q4_1 or q8_0", o.type));
  q.type = *type;
  const auto method = quant::parse_method(o.method);
  if (!method) throw InputError(fmt::format("--method '{}' is not rtn, gptq or awq", o.method));
  q.method = *method;
  q.calib_file = o.calib;
  q.samples = o.samples;
  q.seq_len = o.seq_len;
  for (const auto& k : o.keep) {
    const auto eq = k.rfind('=');
    const auto kt = eq == std::string::npos ? std::nullopt : parse_ggml_type(k.substr(eq + 1));
    if (eq == 0 || !kt)
      throw InputError(fmt::format("--keep '{}': expected GLOB=TYPE, TYPE one of f32, f16, bf16, q8_0, q4_0, q4_1", k),
                       "e.g. --keep 'output.weight=q8_0' --keep 'blk.*.attn_v.weight=f16'");
    q.keep.emplace_back(k.substr(0, eq), *kt);
  }
  q.device = o.device;
  q.seed = o.seed;
  q.act_order = o.act_order;
  if (!(o.damp > 0 && o.damp <= 1)) throw InputError(fmt::format("--damp {}: expected a fraction in (0, 1]", o.damp));
  q.damp = o.damp;
  q.threads = o.threads;
  return q;
}

void write_report(const std::string& path, const quant::QuantizeReport& r) {
  AtomicOutputFile f(path);
  const std::string s = r.to_json().dump(2) + "\n";
  f.sink().write(s.data(), s.size());
  f.commit();
}

}  // namespace

void add_quantize_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("quantize", "Quantize a GGUF model (RTN, GPTQ or AWQ) to Q4_0, Q4_1 or Q8_0");
  auto opts = std::make_shared<Opts>();
  sub->add_option("IN", opts->input, "Input GGUF (F32, F16 or BF16 weights)")->required();
  sub->add_option("OUT", opts->output, "Output GGUF")->required();
  sub->add_option("--type", opts->type, "q4_0, q4_1 or q8_0")->required();
  sub->add_option("--method", opts->method, "rtn (default), gptq or awq; gptq and awq need --calib");
  sub->add_option("--calib", opts->calib, "Calibration text (e.g. quant/data/calibration.txt)");
  sub->add_option("--samples", opts->samples, "Calibration windows (default 128)");
  sub->add_option("--seq-len", opts->seq_len, "Tokens per calibration window, BOS included (default 256)");
  sub->add_option("--keep", opts->keep,
                  "GLOB=TYPE: tensors whose names match GLOB (fnmatch) get TYPE (f32, f16, bf16, q8_0, q4_0, q4_1); "
                  "repeatable, the first match wins");
  sub->add_option("--device", opts->device, "Where calibration runs: cpu (the CPU reference; default, and for now the only choice)");
  sub->add_option("--seed", opts->seed, "Seed for the calibration windows' offsets (default 0)");
  sub->add_flag("--act-order", opts->act_order, "GPTQ: process columns by decreasing activation energy");
  sub->add_option("--damp", opts->damp, "GPTQ: dampening as a fraction of mean(diag H) (default 0.01; raised if H does not factorise)");
  sub->add_option("--threads", opts->threads, "CPU threads (default: all cores; the output does not depend on it)");
  sub->add_option("--report", opts->report, "Write a JSON report: per tensor type, bytes, output MSE (method and RTN)");
  sub->callback([&cli, opts] {
    quant::QuantizeOptions q = parse(*opts);
    const InterruptGuard guard;
    g_interrupted = 0;
    FractionLine line("quantize");
    q.progress = [&line](double f, const std::string& what) {
      if (g_interrupted) throw Error(ExitCode::bad_input, "interrupted: no output written");
      line.update(f, what);
    };
    const quant::QuantizeReport r = quant::quantize_model(q);
    for (const auto& w : r.warnings) std::fprintf(stderr, "vkq: warning: %s\n", w.c_str());
    if (!opts->report.empty()) write_report(opts->report, r);
    std::string calib;
    if (!q.calib_file.empty())
      calib = fmt::format(", {} x {} tokens of {}", r.samples, r.seq_len, std::filesystem::path(q.calib_file).filename().string());
    std::printf("wrote %s: %s %s%s, %llu bytes in %.1f s\n", q.output.c_str(), ggml_type_name(r.type), r.method.c_str(),
                calib.c_str(), static_cast<unsigned long long>(r.output_bytes), r.seconds);
    cli.result = 0;
  });
}

}  // namespace vkq::cli
