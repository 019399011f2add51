// vkq scorecard [CONFIG.toml] [-o DIR] [--devices LIST] [--resume] [--json]
// vkq scorecard compare OLD.json NEW.json [--json]
// vkq scorecard merge SHARD.json... -o OUT.json [--json]
// Runs every variant on every device over every eval set (no config: the
// bundled stories260K demo, eval/demo.toml), writes scorecard.json, .md and
// .html into DIR (default scorecard-out) and prints the Markdown summary.
// Exit 0 when every gate holds, 1 when one fails (compare: a regression
// beyond the gates; merge: the merged verdict), 2 bad input, 3 device failure.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "error.hpp"
#include "model_paths.hpp"
#include "reports.hpp"
#include "scorecard_config.hpp"
#include "scorecard_merge.hpp"
#include "scorecard_runner.hpp"

namespace vkq::cli {
namespace {

struct ScorecardOpts {
  std::string config, out = "scorecard-out", devices;
  bool resume = false, json = false;
};

// One status line on a terminal (stderr), redrawn at most 5 times a second.
class StatusLine {
 public:
  StatusLine() : tty_(::isatty(::fileno(stderr)) == 1) {}
  ~StatusLine() { clear(); }
  void show(const std::string& s) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\r\033[K%s", s.c_str());
    std::fflush(stderr);
  }
  void note(const std::string& s) {
    if (!tty_) return;
    clear();
    std::fprintf(stderr, "%s\n", s.c_str());
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Test hook (tests/tools/test_cli_scorecard.cpp): VKQ_SCORECARD_KILL_AFTER=K
// kills this process with SIGKILL once K units are in the journal, as a kill
// from outside would at that point.
long kill_after() {
  const char* v = std::getenv("VKQ_SCORECARD_KILL_AFTER");
  return v && *v ? std::strtol(v, nullptr, 10) : -1;
}

void print_json(const nlohmann::ordered_json& j) {
  std::printf("%s\n", j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int run_scorecard_cmd(const ScorecardOpts& o, const std::string& command) {
  const std::string path = o.config.empty() ? eval::demo_config_path() : o.config;
  auto cfg = eval::load_config(path);
  if (!o.devices.empty()) {
    // One shard per CI runner: the same config, this runner's devices.
    cfg.devices.clear();
    std::string item;
    for (size_t i = 0; i <= o.devices.size(); ++i) {
      if (i == o.devices.size() || o.devices[i] == ',') {
        if (item.empty()) throw InputError(fmt::format("--devices \"{}\": an empty entry", o.devices));
        cfg.devices.push_back(item);
        item.clear();
      } else {
        item += o.devices[i];
      }
    }
  }
  StatusLine status;
  const long kill_at = kill_after();
  size_t units_here = 0;
  eval::RunnerOptions ro;
  ro.out_dir = o.out;
  ro.resume = o.resume;
  ro.command = command;
  ro.note = [&](const std::string& s) { status.note("scorecard: " + s); };
  ro.progress = [&](const eval::RunProgress& p) {
    status.show(fmt::format("scorecard: [{}/{}] {} on {}, {} item {}/{}", p.unit, p.units, p.variant, p.device,
                            p.eval_set, p.item, p.items));
  };
  ro.unit_done = [&](size_t) {
    ++units_here;
    if (kill_at >= 0 && long(units_here) >= kill_at) std::raise(SIGKILL);
  };
  eval::remove_stale_report_temps(o.out);
  const auto sc = eval::run_scorecard(cfg, ro);
  status.clear();
  eval::write_reports(sc, o.out);
  if (o.json) {
    print_json(eval::to_json(sc));
  } else {
    std::printf("%s", eval::render_markdown(sc).c_str());
  }
  std::fprintf(stderr, "wrote %s/scorecard.json, scorecard.md, scorecard.html (%zu rows; %s)\n", o.out.c_str(),
               sc.rows.size(), sc.verdict.c_str());
  return sc.verdict == "pass" ? 0 : 1;
}

std::string with_extension(const std::string& path, const char* ext) {
  return std::filesystem::path(path).replace_extension(ext).string();
}

}  // namespace

void add_scorecard_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("scorecard", "Score variants x devices x eval sets against a reference, with gates");
  auto opts = std::make_shared<ScorecardOpts>();
  sub->add_option("config", opts->config, "Scorecard config (TOML); default: the bundled stories260K demo");
  sub->add_option("-o,--out", opts->out, "Output folder for scorecard.json/.md/.html and the journal (default scorecard-out)");
  sub->add_option("--devices", opts->devices,
                  "Devices instead of the config's: comma-separated all, cpu, indices, name substrings (one CI shard "
                  "per runner)");
  sub->add_flag("--resume", opts->resume, "Continue an interrupted run from the journal in the output folder");
  sub->add_flag("--json", opts->json, "Print scorecard.json instead of the Markdown summary");
  sub->require_subcommand(0, 1);

  auto* cmp = sub->add_subcommand("compare", "Paired deltas OLD -> NEW; exit 1 on a regression beyond the gates");
  auto cmp_files = std::make_shared<std::vector<std::string>>();
  auto cmp_json = std::make_shared<bool>(false);
  cmp->add_option("files", *cmp_files, "OLD.json NEW.json")->required()->expected(2);
  cmp->add_flag("--json", *cmp_json, "Print one JSON document");
  cmp->callback([&cli, cmp_files, cmp_json] {
    const auto a = eval::read_scorecard((*cmp_files)[0]);
    const auto b = eval::read_scorecard((*cmp_files)[1]);
    const auto c = eval::compare_scorecards(a, b);
    if (*cmp_json) {
      std::printf("%s\n", eval::to_json(c).dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%s", eval::render_comparison(c).c_str());
    }
    cli.result = c.regressions ? 1 : 0;
  });

  auto* mrg = sub->add_subcommand("merge", "Merge shards from different machines into one scorecard");
  auto mrg_files = std::make_shared<std::vector<std::string>>();
  auto mrg_out = std::make_shared<std::string>();
  auto mrg_json = std::make_shared<bool>(false);
  mrg->add_option("shards", *mrg_files, "Shard scorecard.json files")->required();
  mrg->add_option("-o,--out", *mrg_out, "Merged scorecard (JSON); .md and .html are written beside it")->required();
  mrg->add_flag("--json", *mrg_json, "Print the merged scorecard.json instead of the Markdown summary");
  mrg->callback([&cli, mrg_files, mrg_out, mrg_json] {
    std::vector<eval::Scorecard> shards;
    for (const auto& f : *mrg_files) shards.push_back(eval::read_scorecard(f));
    const auto m = eval::merge_scorecards(shards, *mrg_files);
    const auto dir = std::filesystem::path(*mrg_out).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    eval::write_text_file(*mrg_out, eval::to_json(m).dump(1) + "\n");
    eval::write_text_file(with_extension(*mrg_out, ".md"), eval::render_markdown(m));
    eval::write_text_file(with_extension(*mrg_out, ".html"), eval::render_html(m));
    if (*mrg_json) {
      print_json(eval::to_json(m));
    } else {
      std::printf("%s", eval::render_markdown(m).c_str());
    }
    cli.result = m.verdict == "pass" ? 0 : 1;
  });

  sub->callback([&cli, sub, opts] {
    if (!sub->get_subcommands().empty()) return;  // compare / merge ran
    std::string command = "vkq scorecard";
    if (!opts->config.empty()) command += " " + opts->config;
    command += " -o " + opts->out + (opts->devices.empty() ? "" : " --devices " + opts->devices) +
               (opts->resume ? " --resume" : "");
    cli.result = run_scorecard_cmd(*opts, command);
  });
}

}  // namespace vkq::cli
