// vkq CLI entry point: parses, runs one subcommand, maps errors to exit codes.
#include <cstdio>
#include <exception>

#include "cli.hpp"
#include "error.hpp"
#include "oom_report.hpp"
#include "vulkan.hpp"

int main(int argc, char** argv) {
  vkq::cli::Cli cli;
  cli.app.require_subcommand(1);
  cli.app.set_version_flag("--version", std::string("vkq ") + VKQ_VERSION);
  vkq::cli::add_devices_command(cli);
  vkq::cli::add_bench_command(cli);
  vkq::cli::add_inspect_command(cli);
  vkq::cli::add_convert_command(cli);
  vkq::cli::add_synth_command(cli);
  vkq::cli::add_run_command(cli);
  vkq::cli::add_fit_command(cli);
  vkq::cli::add_quantize_command(cli);
  vkq::cli::add_perplexity_command(cli);
  vkq::cli::add_scorecard_command(cli);
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = cli.app.exit(e);  // prints help/usage; 0 for --help
    return rc == 0 ? 0 : static_cast<int>(vkq::ExitCode::bad_input);
  } catch (const vkq::Error& e) {
    std::fprintf(stderr, "vkq: error: %s\n", e.what());
    // A memory failure: the fit table, and a suggestion drawn from it.
    const auto* de = dynamic_cast<const vkq::DeviceError*>(&e);
    if (const vkq::OomReport* oom = de ? de->oom() : nullptr) {
      for (const auto& line : oom->table()) std::fprintf(stderr, "  %s\n", line.c_str());
      std::fprintf(stderr, "  hint: %s\n", oom->suggestion().c_str());
    } else if (!e.hint().empty()) {
      std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    }
    return static_cast<int>(e.code());
  } catch (const vk::SystemError& e) {
    std::fprintf(stderr, "vkq: error: Vulkan call failed: %s\n", e.what());
    return static_cast<int>(vkq::ExitCode::device);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "vkq: error: out of host memory\n");
    return static_cast<int>(vkq::ExitCode::device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkq: error: %s\n", e.what());
    return static_cast<int>(vkq::ExitCode::device);
  }
  return cli.result;
}
