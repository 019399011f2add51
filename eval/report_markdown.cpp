#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "reports.hpp"

namespace vkq::eval {
namespace {

std::string pct(double confidence) { return fmt::format("{:g}%", confidence * 100); }

std::string bytes_str(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", double(b) / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", double(b) / double(1ull << 20));
  return fmt::format("{:.1f} KiB", double(b) / 1024.0);
}

std::string allowed(const Row& r) {
  if (!r.gate) return "—";
  return r.gate->relative ? fmt::format("{} ({:g}% of ref)", format_delta(r.metric, r.gate->threshold),
                                        r.gate->max_regression * 100)
                          : format_delta(r.metric, r.gate->threshold);
}

std::string delta_ci(const Row& r) {
  return fmt::format("{} [{}, {}]", format_delta(r.metric, r.delta), format_delta(r.metric, r.delta_ci.lo),
                     format_delta(r.metric, r.delta_ci.hi));
}

std::string device_label(const Scorecard& s, const std::string& id) {
  for (const auto& d : s.devices)
    if (d.id == id) return d.id == "cpu" ? "cpu" : fmt::format("{} ({})", d.name, d.id);
  return id;
}

}  // namespace

std::string format_value(Metric m, double v) {
  switch (m) {
    case Metric::perplexity: return fmt::format("{:.3f}", v);
    case Metric::kld: return fmt::format("{:.4f}", v);
    case Metric::delta_p: return fmt::format("{:+.4f}", v);
    default: return fmt::format("{:.1f}%", v * 100);
  }
}

std::string format_delta(Metric m, double d) {
  switch (m) {
    case Metric::perplexity: return fmt::format("{:+.3f}", d);
    case Metric::kld: return fmt::format("{:+.4f}", d);
    case Metric::delta_p: return fmt::format("{:+.4f}", d);
    default: return fmt::format("{:+.1f} pp", d * 100);
  }
}

const Row* worst_row(const Scorecard& s, const std::string& variant, const std::string& device) {
  const Row* worst = nullptr;
  double worst_score = -INFINITY;
  for (const auto& r : s.rows) {
    if (r.variant != variant || r.device != device || r.slice == "all") continue;
    const bool higher = metric_info(r.metric).higher_is_better;
    const double regression = higher ? -r.delta : r.delta;
    double score;
    if (r.gate) {
      score = (r.verdict == "fail" ? 1e9 : 0) + (r.gate->threshold > 0 ? regression / r.gate->threshold : regression * 1e6);
    } else {
      score = -1e9 + regression / std::max(std::fabs(r.reference), 1e-9);
    }
    if (score > worst_score) {
      worst_score = score;
      worst = &r;
    }
  }
  return worst;
}

std::string render_markdown(const Scorecard& s) {
  std::string md;
  const bool pass = s.verdict == "pass";
  md += fmt::format("## vkq scorecard — {}: {}\n\n", s.name, pass ? "✅ PASS" : "❌ FAIL");
  md += fmt::format("{} gated rows, {} failed; {} variants × {} devices × {} eval sets; reference `{}`. ", s.gated_rows,
                    s.failed_rows, s.variants.size(), s.devices.size(), s.sets.size(), s.reference().name);
  md += fmt::format("A gate fails only when the whole {} paired-bootstrap interval of the regression lies beyond "
                    "its limit; the aggregate over slices (`all`) never gates.\n\n",
                    pct(s.bootstrap.confidence));
  md += "Devices: ";
  for (size_t i = 0; i < s.devices.size(); ++i)
    md += fmt::format("{}`{}` {} ({}){}", i ? ", " : "", s.devices[i].id, s.devices[i].name, s.devices[i].driver, "");
  md += ". Eval sets: ";
  for (size_t i = 0; i < s.sets.size(); ++i)
    md += fmt::format("{}{} {} (sha256 {}…, {} items)", i ? ", " : "", s.sets[i].name, s.sets[i].version,
                      s.sets[i].sha256.substr(0, 12), s.sets[i].items.size());
  md += ".\n\n";

  if (s.failed_rows) {
    md += "### Failed gates\n\n| variant | device | eval set | slice | metric | value | Δ vs reference [CI] | allowed |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : s.rows)
      if (r.verdict == "fail")
        md += fmt::format("| {} | {} | {} | {} | {}/{} | {} | {} | {} |\n", r.variant, device_label(s, r.device),
                          r.eval_set, r.slice, r.dimension, metric_name(r.metric), format_value(r.metric, r.value),
                          delta_ci(r), allowed(r));
    md += "\n";
  }

  md += "### Worst slice per variant and device\n\n"
        "| variant | device | slice | metric | value | reference | Δ [CI] | allowed | verdict |\n"
        "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& d : s.devices)
    for (const auto& v : s.variants) {
      if (v.reference) continue;
      const Row* r = worst_row(s, v.name, d.id);
      if (!r) continue;
      md += fmt::format("| {} | {} | {}/{} | {}/{} | {} | {} | {} | {} | {} |\n", v.name, device_label(s, d.id),
                        r->eval_set, r->slice, r->dimension, metric_name(r->metric), format_value(r->metric, r->value),
                        format_value(r->metric, r->reference), delta_ci(*r), allowed(*r),
                        r->verdict == "fail" ? "**fail**" : r->verdict);
    }
  md += "\n### Speed and memory\n\n"
        "| variant | device | file | prefill tok/s | decode tok/s | memory predicted | measured |\n"
        "|---|---|---|---|---|---|---|\n";
  for (const auto& f : s.fit)
    md += fmt::format("| {} | {} | {} | {:.0f} | {:.0f} | {} | {} |\n", f.variant, device_label(s, f.device),
                      bytes_str(f.model_bytes), f.timing.prefill_tokens_per_s(), f.timing.decode_tokens_per_s(),
                      f.memory.known ? bytes_str(f.memory.predicted) : "n/a",
                      f.memory.known ? bytes_str(f.memory.measured) : "n/a");
  md += fmt::format("\n<sub>vkq {} · {} rows in scorecard.json · {} resamples, seed {}</sub>\n",
                    s.run.value("vkq_version", std::string("?")), s.rows.size(), s.bootstrap.resamples,
                    s.bootstrap.seed);
  return md;
}

void write_text_file(const std::string& path, const std::string& text) {
  AtomicOutputFile f(path);
  f.sink().write(text.data(), text.size());
  f.commit();
}

void remove_stale_report_temps(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    for (const char* report : {"scorecard.json.tmp-", "scorecard.md.tmp-", "scorecard.html.tmp-"})
      if (n.rfind(report, 0) == 0) std::filesystem::remove(e.path(), ec);
  }
}

void write_reports(const Scorecard& s, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto p = std::filesystem::path(dir);
  write_text_file((p / "scorecard.json").string(), to_json(s).dump(1) + "\n");
  write_text_file((p / "scorecard.md").string(), render_markdown(s));
  write_text_file((p / "scorecard.html").string(), render_html(s));
}

}  // namespace vkq::eval
