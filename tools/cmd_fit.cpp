// vkq fit (MODEL | --config NAME | config.json) [--type T] [--ctx N] [--batch B]
//         [--kv f16|f32] [--device D | --memory SIZE] [--force] [--json]
// Whether a model fits a device at a precision and context, from the Vulkan
// forward pass's own allocation plan (eval/fit.hpp): a column per device
// (every Vulkan device, the one --device names, or a hypothetical --memory).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "error.hpp"
#include "fit.hpp"
#include "instance.hpp"
#include "llama_model.hpp"
#include "model_configs.hpp"

namespace vkq::cli {
namespace {

struct FitOpts {
  std::string source, config, type, device, memory, kv = "f16";
  int64_t ctx = 0;
  uint32_t batch = 512;
  bool force = false, json = false, ctx_given = false;
};

bool is_gguf(const std::string& s) { return s.size() > 5 && s.substr(s.size() - 5) == ".gguf"; }

// The layout to plan: a GGUF file's tensors (or, with --type, its shapes at
// that type), or a config's shapes at --type.
struct Subject {
  std::string name;
  LlamaGpuLayout layout;
  std::unique_ptr<LlamaModel> model;  // keeps a file's views alive
};

Subject load_subject(const FitOpts& o) {
  std::optional<GgmlType> type;
  if (!o.type.empty()) {
    type = parse_ggml_type(o.type);
    if (!type || !ggml_type_info(*type).supported)
      throw InputError(fmt::format("--type '{}': expected f32, f16, bf16, q8_0, q4_0 or q4_1", o.type));
  }
  Subject s;
  const std::string src = o.config.empty() ? o.source : o.config;
  if (src.empty() || (!o.config.empty() && !o.source.empty()))
    throw InputError("fit: give a MODEL.gguf, a config name or a config.json (one of them)",
                     fmt::format("configs: {}", fmt::join(known_model_configs(), ", ")));
  if (o.config.empty() && is_gguf(src)) {
    s.model = std::make_unique<LlamaModel>(LlamaModel::open(src));
    s.name = src;
    if (type) {
      s.layout = llama_gpu_layout(s.model->hparams(), *type, s.model->tied_output(),
                                  s.model->rope_freqs() ? s.model->rope_freqs()->to_floats() : std::vector<float>{});
      s.name += fmt::format(" as {}", ggml_type_name(*type));
    } else {
      s.layout = llama_gpu_layout(*s.model);
    }
    return s;
  }
  const auto cfg = load_model_config(src);
  if (!type) throw InputError(fmt::format("fit {}: a config needs --type (f32, f16, bf16, q8_0, q4_0, q4_1)", cfg.name));
  s.name = fmt::format("{} {}", cfg.name, ggml_type_name(*type));
  s.layout = llama_gpu_layout(cfg.hp, *type, cfg.tied_embeddings, cfg.rope_freqs());
  return s;
}

// One unit for the whole table: GiB, or MiB when the model is under 1 GiB.
struct Unit {
  double div;
  const char* name;
  std::string operator()(uint64_t b) const { return fmt::format("{:.2f} {}", double(b) / div, name); }
  std::string signed_(int64_t b) const { return b < 0 ? "-" + (*this)(uint64_t(-b)) : (*this)(uint64_t(b)); }
};

std::string count(uint64_t n) {
  return n >= 1000000000 ? fmt::format("{:.2f}B", double(n) / 1e9)
         : n >= 1000000  ? fmt::format("{:.1f}M", double(n) / 1e6)
                         : fmt::format("{:.1f}K", double(n) / 1e3);
}

void print_table(const Subject& s, const std::vector<eval::FitResult>& rs) {
  const auto& r0 = rs.front();
  const Unit gib = r0.total >= (1ull << 30) ? Unit{double(1ull << 30), "GiB"} : Unit{double(1ull << 20), "MiB"};
  std::printf("%s: %s parameters, context %u, batch %u, KV cache %s\n", s.name.c_str(), count(r0.params).c_str(),
              r0.ctx, r0.batch, ops::kv_type_name(r0.kv));
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head{""};
  for (const auto& r : rs) head.push_back(r.target);
  rows.push_back(head);
  auto row = [&](std::string label, auto cell) {
    std::vector<std::string> line{std::move(label)};
    for (const auto& r : rs) line.push_back(cell(r));
    rows.push_back(std::move(line));
  };
  row(fmt::format("raw weights at {:g} bits (lower bound)", r0.nominal_bits), [&](const auto& r) { return gib(r.raw_weight_bytes); });
  row(fmt::format("weights ({:.2f} bits per weight)", 8.0 * double(r0.component("weights")) / double(r0.params)),
      [&](const auto& r) { return gib(r.component("weights")); });
  for (const char* c : {"kv_cache", "activations", "scratch", "io", "staging", "reserve"})
    row(std::string(c) + (std::string(c) == "reserve" ? " (driver, estimated)" : ""),
        [&, c](const auto& r) { return gib(r.component(c)); });
  row("total", [&](const auto& r) { return gib(r.total); });
  row("budget", [&](const auto& r) { return gib(r.budget) + " (" + r.budget_source + ")"; });
  row("headroom", [&](const auto& r) { return gib.signed_(r.headroom); });
  row("verdict", [](const auto& r) { return r.verdict(); });
  row("largest context that fits", [](const auto& r) { return r.max_ctx ? std::to_string(r.max_ctx) : std::string("none"); });
  row("tensors split by buffer limits", [](const auto& r) { return std::to_string(r.split_tensors); });
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& l : rows)
    for (size_t i = 0; i < l.size(); ++i) w[i] = std::max(w[i], l[i].size());
  for (const auto& l : rows) {
    std::string out;
    for (size_t i = 0; i < l.size(); ++i)
      out += i == 0 ? fmt::format("{:<{}}", l[i], w[i]) : fmt::format("  {:>{}}", l[i], w[i]);
    std::printf("%s\n", out.c_str());
  }
  for (const auto& r : rs)
    for (const auto& wmsg : r.warnings) std::fprintf(stderr, "vkq: warning: %s\n", wmsg.c_str());
}

void run_fit(Cli& cli, const FitOpts& o) {
  if (o.ctx < 0 || (o.ctx == 0 && o.ctx_given)) throw InputError(fmt::format("--ctx {}: a context must be positive", o.ctx));
  if (o.ctx > int64_t(UINT32_MAX)) throw InputError(fmt::format("--ctx {} is too large", o.ctx));
  if (o.batch == 0) throw InputError("--batch must be positive");
  if (!o.memory.empty() && !o.device.empty()) throw InputError("fit: --device and --memory exclude each other");
  std::optional<uint64_t> memory;
  if (!o.memory.empty()) memory = eval::parse_memory_size(o.memory);
  const Subject s = load_subject(o);
  eval::FitOptions fo;
  fo.ctx = static_cast<uint32_t>(o.ctx);
  fo.batch = o.batch;
  fo.kv = o.kv == "f32" ? ops::KvType::f32 : ops::KvType::f16;
  fo.force = o.force;

  std::vector<eval::FitResult> rs;
  if (memory) {
    rs.push_back(eval::fit_model(s.layout, eval::hypothetical_device(*memory), fo, memory));
  } else {
    const Instance inst;
    std::vector<uint32_t> which;
    if (!o.device.empty()) {
      if (o.device == "cpu") throw InputError("fit plans Vulkan devices; for the CPU reference give --memory SIZE");
      which.push_back(inst.select(o.device));
    } else {
      for (const auto& d : inst.devices())
        if (d.rejected.empty()) which.push_back(d.caps.index);
    }
    if (which.empty())
      throw DeviceError("no usable Vulkan device to fit against", "give --memory SIZE for a hypothetical device");
    for (const uint32_t i : which) rs.push_back(eval::fit_model(s.layout, inst.devices()[i].caps, fo));
  }
  if (o.json) {
    nlohmann::json j{{"schema", "vkq.fit/1"}, {"vkq_version", VKQ_VERSION}, {"model", s.name}, {"targets", nlohmann::json::array()}};
    for (const auto& r : rs) j["targets"].push_back(eval::to_json(r));
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_table(s, rs);
  }
  cli.result = 0;
}

}  // namespace

void add_fit_command(Cli& cli) {
  auto o = std::make_shared<FitOpts>();
  auto* sub = cli.app.add_subcommand("fit", "Will a model fit a device at a precision and context? (memory plan)");
  sub->add_option("model", o->source, "MODEL.gguf, a config name (see vkq synth) or a Hugging Face config.json");
  sub->add_option("--config", o->config, "A named config or config.json (no file needed)");
  sub->add_option("--type", o->type, "Weight type: f32, f16, bf16, q8_0, q4_0, q4_1 (a config needs it)");
  sub->add_option("--ctx", o->ctx, "Context length (default: the model's)");
  sub->add_option("--batch", o->batch, "Tokens per prefill pass (default 512)");
  sub->add_option("--kv", o->kv, "KV cache type: f16 (default) or f32")->check(CLI::IsMember({"f16", "f32"}));
  sub->add_option("--device", o->device, "A Vulkan device (index or name substring); default: every device");
  sub->add_option("--memory", o->memory, "A hypothetical device of this size (e.g. 24GiB, 16G, 8000MB)");
  sub->add_flag("--force", o->force, "Allow a context beyond the model's trained one (warned)");
  sub->add_flag("--json", o->json, "Print one JSON document");
  sub->callback([&cli, o, sub] {
    o->ctx_given = sub->count("--ctx") > 0;
    run_fit(cli, *o);
  });
}

}  // namespace vkq::cli
