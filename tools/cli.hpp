// Shared pieces of the `vkq` CLI. Each subcommand lives in its own file and
// registers itself with add_<name>_command(); main.cpp maps errors to exit
// codes (DESIGN.md): 0 ok, 1 regression, 2 bad usage/input, 3 device failure.
#pragma once

#include <CLI/CLI.hpp>

namespace vkq::cli {

struct Cli {
  CLI::App app{"vkq: quantized LLM inference on Vulkan, quantizer and scorecard", "vkq"};
  int result = 0;  // exit code a subcommand sets when it finishes without throwing
};

void add_devices_command(Cli& cli);
void add_bench_command(Cli& cli);
void add_inspect_command(Cli& cli);
void add_convert_command(Cli& cli);
void add_synth_command(Cli& cli);
void add_run_command(Cli& cli);
void add_fit_command(Cli& cli);
void add_quantize_command(Cli& cli);
void add_perplexity_command(Cli& cli);
void add_scorecard_command(Cli& cli);

}  // namespace vkq::cli
