// vkq run -m MODEL [-p TEXT] [-n N] [--temp T] [--top-k K] [--top-p P]
//         [--seed S] [--device D] [--json]
// Tokenizes the prompt (with BOS), prefills it, and streams the generated
// text to stdout token by token until EOS or N tokens; prompt and generation
// tokens/s go to stderr. --json prints one JSON document instead.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "error.hpp"
#include "generate.hpp"
#include "llama_model.hpp"
#include "sampler.hpp"
#include "session_factory.hpp"
#include "tokenizer.hpp"

namespace vkq::cli {
namespace {

struct RunOpts {
  std::string model, prompt, device;  // "" = VKQ_DEVICE, then the best Vulkan device
  uint32_t n_predict = 128;
  SamplerOptions sampler;
  std::optional<uint64_t> seed;
  bool json = false;
};

// A float option as the shortest decimal that reads back the same (0.95, not
// 0.949999988079071).
double shortest(float f) { return std::stod(fmt::format("{}", f)); }

std::string timing_line(const GenerateResult& r, const SamplerOptions& so) {
  return fmt::format("prompt: {} tokens in {:.3f} s ({:.1f} tokens/s); generation: {} tokens, {} decode steps in "
                     "{:.3f} s ({:.1f} tokens/s); stop: {}{}",
                     r.prompt_tokens.size(), r.prompt_seconds, r.prompt_tokens_per_second(), r.tokens.size(),
                     r.decode_steps, r.decode_seconds, r.decode_tokens_per_second(), stop_reason_name(r.stop),
                     so.greedy() ? std::string("; greedy") : fmt::format("; seed {}", so.seed));
}

// Device memory: the forward plan's prediction and the measured peak of
// vkq's allocations (Vulkan sessions; null on the CPU reference).
nlohmann::ordered_json memory_json(const OpenedSession& s) {
  if (!s.vulkan) return nullptr;
  return {{"planned_peak_bytes", s.vulkan->plan().peak_bytes()}, {"measured_peak_bytes", s.device->memory_stats().peak}};
}

std::string memory_line(const OpenedSession& s) {
  if (!s.vulkan) return {};
  return fmt::format("; memory: planned {}, measured peak {}", format_bytes(s.vulkan->plan().peak_bytes()),
                     format_bytes(s.device->memory_stats().peak));
}

nlohmann::ordered_json to_json(const RunOpts& o, const OpenedSession& os, const GenerateResult& r, double load_s) {
  const LlamaSession& s = *os.session;
  return {{"schema", "vkq.run/1"},
          {"vkq_version", VKQ_VERSION},
          {"model", o.model},
          {"device", s.device_name()},
          {"prompt", r.prompt_text},
          {"text", r.text},
          {"prompt_tokens", r.prompt_tokens},
          {"tokens", r.tokens},
          {"stop", stop_reason_name(r.stop)},
          {"sampler",
           {{"temperature", shortest(o.sampler.temperature)}, {"top_k", o.sampler.top_k}, {"top_p", shortest(o.sampler.top_p)},
            {"seed", o.sampler.seed}}},
          {"n_ctx", s.n_ctx()},
          {"timings",
           {{"load_s", load_s},
            {"prompt_s", r.prompt_seconds},
            {"prompt_tokens_per_s", r.prompt_tokens_per_second()},
            {"decode_steps", r.decode_steps},
            {"decode_s", r.decode_seconds},
            {"decode_tokens_per_s", r.decode_tokens_per_second()}}},
          {"memory", memory_json(os)}};
}

void run(RunOpts o) {
  if (!o.seed) o.seed = (uint64_t(std::random_device{}()) << 32) | std::random_device{}();
  o.sampler.seed = *o.seed;
  Sampler sampler(o.sampler);  // validates --temp, --top-k, --top-p first

  const auto t0 = std::chrono::steady_clock::now();
  const LlamaModel model = LlamaModel::open(o.model);
  const auto tok = make_tokenizer(model.metadata());
  const auto prompt = tok->encode(o.prompt, tok->vocab().add_bos);
  if (prompt.empty())
    throw InputError(fmt::format("{}: the prompt is empty and the vocabulary adds no BOS", o.model), "give a prompt with -p");
  const uint32_t ctx_max = model.hparams().context_length;
  if (prompt.size() > ctx_max)
    throw InputError(fmt::format("the prompt has {} tokens; {} holds {} (llama.context_length)", prompt.size(),
                                 o.model, ctx_max));
  // The cache holds what this run can reach, not the model's whole context.
  const uint32_t n_ctx = static_cast<uint32_t>(std::min<uint64_t>(ctx_max, prompt.size() + uint64_t(o.n_predict)));
  const auto opened = open_llama_session(o.device, model, n_ctx);
  const auto& session = opened.session;
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::function<void(std::string_view)> stream;
  if (!o.json) {
    stream = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
    // The prompt is echoed first, so stdout reads as the whole text.
    stream(tok->decode(prompt));
  }
  const auto r = generate(*session, *tok, prompt, o.n_predict, sampler, stream);
  if (o.json) {
    std::printf("%s\n", to_json(o, opened, r, load_s).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);  // the text first, then the timings on stderr
  std::fprintf(stderr, "%s%s\n", timing_line(r, o.sampler).c_str(), memory_line(opened).c_str());
}

}  // namespace

void add_run_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("run", "Generate text from a prompt");
  auto opts = std::make_shared<RunOpts>();
  sub->add_option("-m,--model", opts->model, "GGUF model (llama architecture)")->required();
  sub->add_option("-p,--prompt", opts->prompt, "Prompt text (BOS is prepended); default empty");
  sub->add_option("-n,--n-predict", opts->n_predict, "Tokens to generate at most (default 128)");
  sub->add_option("--temp", opts->sampler.temperature, "Temperature; 0 = greedy (default 0.8)");
  sub->add_option("--top-k", opts->sampler.top_k, "Keep the K most likely tokens; 0 = all (default 40)");
  sub->add_option("--top-p", opts->sampler.top_p, "Keep the most likely tokens up to probability P; 1 = all (default 0.95)");
  sub->add_option("--seed", opts->seed, "Sampler seed (default random; reported with --json)");
  sub->add_option("--device", opts->device,
                  "A Vulkan device (index or name substring from `vkq devices`), or cpu for the CPU reference "
                  "forward pass (default: VKQ_DEVICE, then the best Vulkan device)");
  sub->add_flag("--json", opts->json, "Print one JSON document (text, token ids, timings) instead of streaming");
  sub->callback([&cli, opts] {
    run(*opts);
    cli.result = 0;
  });
}

}  // namespace vkq::cli
