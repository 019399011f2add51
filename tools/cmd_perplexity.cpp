// vkq perplexity -m MODEL -f TEXT [--ref REFERENCE] [--ctx N] [--device D] [--json]
// Perplexity of MODEL over TEXT in windows of N tokens (eval/perplexity.hpp:
// BOS first, the second half of each window scored, as llama-perplexity);
// with --ref, the reference runs the same windows in lockstep and each
// scored token adds its KL divergence, top-1 agreement and Delta-p.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "error.hpp"
#include "llama_model.hpp"
#include "perplexity.hpp"
#include "progress.hpp"
#include "session_factory.hpp"
#include "tokenizer.hpp"

namespace vkq::cli {
namespace {

struct Opts {
  std::string model, text, ref, device;  // device "": VKQ_DEVICE, then the best Vulkan device
  uint32_t ctx = 0;                      // 0: min(512, the model's context)
  bool json = false;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the text", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string pct(double v) { return fmt::format("{:.3f}%", 100 * v); }

void print_text(const Opts& o, const LlamaSession& s, size_t windows, uint32_t ctx, const nlohmann::json& j) {
  std::printf("%s on %s: %zu windows of %u tokens, %llu tokens scored (the second half of each window)\n",
              o.model.c_str(), s.device_name().c_str(), windows, ctx,
              static_cast<unsigned long long>(j["tokens"].get<uint64_t>()));
  std::printf("PPL %.4f +/- %.4f\n", j["ppl"].get<double>(), j["ppl_stderr"].get<double>());
  if (!j.contains("reference")) return;
  const auto& r = j["reference"];
  const auto& k = j["kld"];
  const auto& d = j["delta_p"];
  std::printf("reference %s: PPL %.4f +/- %.4f; ratio %.4f\n", o.ref.c_str(), r["ppl"].get<double>(),
              r["ppl_stderr"].get<double>(), j["ppl_ratio"].get<double>());
  std::printf("KLD mean %.6f +/- %.6f, median %.6f, p90 %.6f, p99 %.6f, max %.6f\n", k["mean"].get<double>(),
              k["stderr"].get<double>(), k["median"].get<double>(), k["p90"].get<double>(), k["p99"].get<double>(),
              k["max"].get<double>());
  std::printf("same top token: %.3f +/- %.3f %%\n", 100 * j["top1"]["rate"].get<double>(),
              100 * j["top1"]["stderr"].get<double>());
  std::printf("delta-p mean %s, rms %s; min %s, p1 %s, p10 %s, median %s, p90 %s, p99 %s, max %s\n",
              pct(d["mean"]).c_str(), pct(d["rms"]).c_str(), pct(d["min"]).c_str(), pct(d["p1"]).c_str(),
              pct(d["p10"]).c_str(), pct(d["median"]).c_str(), pct(d["p90"]).c_str(), pct(d["p99"]).c_str(),
              pct(d["max"]).c_str());
}

void run(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const LlamaModel model = LlamaModel::open(o.model);
  std::optional<LlamaModel> ref;
  if (!o.ref.empty()) {
    ref.emplace(LlamaModel::open(o.ref));
    if (ref->metadata().get_strings("tokenizer.ggml.tokens") != model.metadata().get_strings("tokenizer.ggml.tokens"))
      throw InputError(fmt::format("{} and {} have different vocabularies: their logits cannot be compared", o.model,
                                   o.ref));
  }
  const uint32_t ctx_max = model.hparams().context_length;
  const uint32_t ctx = o.ctx ? o.ctx : std::min<uint32_t>(512, ctx_max);
  if (ctx > ctx_max || (ref && ctx > ref->hparams().context_length))
    throw InputError(fmt::format("--ctx {} is longer than the model's context of {} tokens", ctx, ctx_max));
  const auto tok = make_tokenizer(model.metadata());
  const auto windows = eval::perplexity_windows(tok->encode(read_text(o.text), false), tok->vocab().bos, ctx);

  const auto session = open_llama_session(o.device, model, ctx);
  OpenedSession ref_session;
  if (ref) ref_session = open_llama_session(o.device, *ref, ctx);
  FractionLine line("perplexity");
  eval::PerplexityOptions po;
  po.progress = [&](size_t done, size_t total) {
    line.update(double(done) / double(total), fmt::format("window {} of {}", done, total));
  };
  const auto scores = eval::score_windows(*session.session, ref_session.session.get(), windows, po);
  nlohmann::ordered_json j = {{"schema", "vkq.perplexity/1"},
                              {"vkq_version", VKQ_VERSION},
                              {"model", o.model},
                              {"reference", o.ref.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(o.ref)},
                              {"text", o.text},
                              {"device", session.session->device_name()},
                              {"ctx", ctx},
                              {"windows", windows.size()},
                              {"scored", "second half of each window"}};
  const nlohmann::json sj = eval::scores_json(scores);
  for (const auto& [k, v] : sj.items()) j[k == "reference" ? "reference_scores" : k] = v;
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    nlohmann::json t = sj;
    print_text(o, *session.session, windows.size(), ctx, t);
  }
}

}  // namespace

void add_perplexity_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("perplexity", "Perplexity over a text; with --ref, KL divergence and top-1 agreement");
  auto opts = std::make_shared<Opts>();
  sub->add_option("-m,--model", opts->model, "GGUF model")->required();
  sub->add_option("-f,--file", opts->text, "Text file to score")->required();
  sub->add_option("--ref", opts->ref, "Reference GGUF (e.g. the F32 model) with the same vocabulary, run in lockstep");
  sub->add_option("--ctx", opts->ctx, "Tokens per window, BOS included (default 512, or the model's context if shorter)");
  sub->add_option("--device", opts->device,
                  "A Vulkan device (index or name substring from `vkq devices`), or cpu for the CPU reference "
                  "(default: VKQ_DEVICE, then the best Vulkan device)");
  sub->add_flag("--json", opts->json, "Print one JSON document");
  sub->callback([&cli, opts] {
    run(*opts);
    cli.result = 0;
  });
}

}  // namespace vkq::cli
