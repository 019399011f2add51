// vkq synth CONFIG --type T -o OUT.gguf [--seed S] [--threads N]: a
// random-weight llama model at the shapes of a named config or a Hugging
// Face config.json (runtime/synth.hpp).
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "atomic_file.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "model_configs.hpp"
#include "progress.hpp"
#include "synth.hpp"

namespace vkq::cli {

void add_synth_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("synth", "Write a random-weight llama model at real shapes");
  struct Opts {
    std::string config, type, out;
    uint64_t seed = 0;
    unsigned threads = 0;
  };
  auto opts = std::make_shared<Opts>();
  sub->add_option("CONFIG", opts->config, "A named config (" + fmt::format("{}", fmt::join(known_model_configs(), ", ")) +
                                              "), a Hugging Face config.json or a model folder holding one")->required();
  sub->add_option("--type", opts->type, "Weight type: f32, f16, bf16, q8_0, q4_0, q4_1")->required();
  sub->add_option("-o,--output", opts->out, "Output GGUF file")->required();
  sub->add_option("--seed", opts->seed, "Random seed (default 0)");
  sub->add_option("--threads", opts->threads, "Worker threads (default: all cores; the output does not depend on it)");
  sub->callback([&cli, opts] {
    const auto type = parse_ggml_type(opts->type);
    if (!type) throw InputError(fmt::format("--type '{}' is not a weight type", opts->type), "use f32, f16, bf16, q8_0, q4_0 or q4_1");
    const ModelConfig cfg = load_model_config(opts->config);
    AtomicOutputFile out(opts->out);
    ProgressLine progress("synth " + cfg.name);
    synth_model(cfg, out.sink(),
                {.type = *type, .seed = opts->seed, .threads = opts->threads, .progress = progress.reporter()});
    out.commit();
    const uint64_t bytes = progress.done();
    std::printf("wrote %s: %s, %s, %llu bytes (%.2f GiB)\n", opts->out.c_str(), cfg.name.c_str(),
                ggml_type_name(*type), static_cast<unsigned long long>(bytes), double(bytes) / (1024.0 * 1024.0 * 1024.0));
    cli.result = 0;
  });
}

}  // namespace vkq::cli
