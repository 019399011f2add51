// scorecard.html: one self-contained page. Layout:
//   header      verdict, run metadata, devices, eval sets
//   per device  a heatmap per (dimension, metric): rows = variants (not the
//               reference), columns = slices then "all"; a cell's colour is
//               its regression against the reference scaled by the gate's
//               limit (or, ungated, by the largest regression in the map):
//               blue = better, white = same, orange -> red = worse, red =
//               at or past the limit; a failed gate has a black frame
//   chart       accuracy (the config's report.accuracy metric over all
//               slices) against file bytes, a series per device
//   tables      failed gates, speed and memory
// Inline CSS and SVG only: no script, no fonts or images fetched.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "reports.hpp"

namespace vkq::eval {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (const char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Regression scaled to [-1, 1+] -> a fill colour.
std::string cell_color(double r) {
  if (!std::isfinite(r)) return "#d73027";
  if (r <= 0) {
    const double t = std::min(1.0, -r);
    const int c = static_cast<int>(255 - t * 120);
    return fmt::format("rgb({},{},255)", c, c + static_cast<int>(t * 40));
  }
  if (r >= 1) return "#d73027";
  // white -> orange (#fdae61) as r goes 0 -> 1
  const int g = static_cast<int>(255 - r * (255 - 174)), b = static_cast<int>(255 - r * (255 - 97));
  return fmt::format("rgb(253,{},{})", g, b);
}

const std::string kPalette[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"};

std::string heatmap(const Scorecard& s, const std::string& device, const SetInfo& set, const Dimension& dim, Metric m) {
  std::vector<std::string> cols;
  for (const auto& sl : set.slices)
    if (!row_items(set, dim.name, m, sl.name).empty()) cols.push_back(sl.name);
  if (cols.empty()) return "";
  cols.push_back("all");
  std::vector<std::string> rows;
  for (const auto& v : s.variants)
    if (!v.reference) rows.push_back(v.name);
  if (rows.empty()) return "";
  std::map<std::pair<std::string, std::string>, const Row*> cell;
  double scale = 0;
  const bool higher = metric_info(m).higher_is_better;
  for (const auto& r : s.rows)
    if (r.device == device && r.eval_set == set.name && r.dimension == dim.name && r.metric == m) {
      cell[{r.variant, r.slice}] = &r;
      scale = std::max(scale, std::fabs(r.delta));
      // Ungated cells are scaled by the largest change in the map, but not
      // below what is noise for the metric, so rounding-level deltas stay white.
      const double floor = m == Metric::perplexity ? 0.01 * std::fabs(r.reference) : m == Metric::kld ? 0.01 : 0.02;
      scale = std::max(scale, floor);
    }
  size_t longest = 0;
  for (const auto& c : cols) longest = std::max(longest, c.size());
  const int cw = std::max(86, 7 * static_cast<int>(longest) + 14), ch = 26, left = 120, top = 40;
  const int w = left + cw * static_cast<int>(cols.size()) + 10, h = top + ch * static_cast<int>(rows.size()) + 10;
  std::string o = fmt::format(
      "<figure class=\"hm\"><figcaption>{}/{} <span class=\"unit\">(Δ vs reference{})</span></figcaption>"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\">",
      esc(dim.name), metric_name(m), higher ? ", higher is better" : ", lower is better", w, h, w, h);
  for (size_t c = 0; c < cols.size(); ++c)
    o += fmt::format("<text x=\"{}\" y=\"{}\" class=\"col\">{}</text>", left + cw * int(c) + cw / 2, top - 10,
                     esc(cols[c]));
  for (size_t r = 0; r < rows.size(); ++r) {
    const int y = top + ch * int(r);
    o += fmt::format("<text x=\"{}\" y=\"{}\" class=\"rowl\">{}</text>", left - 6, y + ch / 2 + 4, esc(rows[r]));
    for (size_t c = 0; c < cols.size(); ++c) {
      const int x = left + cw * int(c);
      const auto it = cell.find({rows[r], cols[c]});
      if (it == cell.end()) {
        o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#eee\"/>", x, y, cw - 2, ch - 2);
        continue;
      }
      const Row& row = *it->second;
      const double regression = higher ? -row.delta : row.delta;
      const double lim = row.gate && row.gate->threshold > 0 ? row.gate->threshold : scale;
      const double scaled = lim > 0 ? regression / lim : 0;
      const bool fail = row.verdict == "fail";
      o += fmt::format(
          "<g><title>{} on {}, {} {}: {} (reference {}), Δ {} [{}, {}]{}; {}</title>"
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}/>"
          "<text x=\"{}\" y=\"{}\" class=\"cell\">{}</text></g>",
          esc(row.variant), esc(device), esc(row.slice), metric_name(m), format_value(m, row.value),
          format_value(m, row.reference), format_delta(m, row.delta), format_delta(m, row.delta_ci.lo),
          format_delta(m, row.delta_ci.hi), row.gate ? ", allowed " + format_delta(m, row.gate->threshold) : "",
          row.verdict, x, y, cw - 2, ch - 2, cell_color(scaled),
          fail ? " stroke=\"#000\" stroke-width=\"3\"" : (row.slice == "all" ? " stroke=\"#999\" stroke-dasharray=\"3 2\"" : ""),
          x + cw / 2 - 1, y + ch / 2 + 4, format_delta(m, row.delta));
    }
  }
  o += "</svg></figure>\n";
  return o;
}

std::string accuracy_chart(const Scorecard& s) {
  const auto slash = s.accuracy.find('/');
  if (slash == std::string::npos) return "";
  const std::string dim = s.accuracy.substr(0, slash);
  const auto metric = parse_metric(s.accuracy.substr(slash + 1));
  if (!metric) return "";
  struct Pt {
    double x, y;
    std::string label;
  };
  std::map<std::string, std::vector<Pt>> series;
  for (const auto& r : s.rows)
    if (r.slice == "all" && r.dimension == dim && r.metric == *metric) {
      for (const auto& v : s.variants)
        if (v.name == r.variant) series[r.device].push_back({double(v.bytes), r.value, v.name});
    }
  if (series.empty()) return "";
  double xmax = 0, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& [d, pts] : series)
    for (const auto& p : pts) {
      xmax = std::max(xmax, p.x);
      ymin = std::min(ymin, p.y);
      ymax = std::max(ymax, p.y);
    }
  if (ymax - ymin < 1e-9) {
    ymin -= 0.05;
    ymax += 0.05;
  }
  const double pad = (ymax - ymin) * 0.15;
  ymin -= pad;
  ymax += pad;
  const int w = 720, h = 420, l = 70, r = 170, t = 20, b = 50;
  auto X = [&](double x) { return l + (w - l - r) * (xmax > 0 ? x / (xmax * 1.05) : 0); };
  auto Y = [&](double y) { return t + (h - t - b) * (1 - (y - ymin) / (ymax - ymin)); };
  std::string o = fmt::format(
      "<figure class=\"chart\"><figcaption>{} (all slices) against file size</figcaption>"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\">"
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#ccc\"/>",
      esc(s.accuracy), w, h, w, h, l, t, w - l - r, h - t - b);
  for (int i = 0; i <= 4; ++i) {
    const double yv = ymin + (ymax - ymin) * i / 4, xv = xmax * 1.05 * i / 4;
    o += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"end\">{}</text>", l - 6, Y(yv) + 4,
                     format_value(*metric, yv));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{:.2f} MiB</text>", X(xv),
                     h - b + 18, xv / 1048576.0);
  }
  o += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">file bytes</text>", l + (w - l - r) / 2,
                   h - 8);
  size_t k = 0;
  // Variants of one size (rtn, gptq, awq at one type) and devices that agree
  // land on one spot: their labels stack downwards instead of overprinting.
  std::vector<std::pair<double, double>> placed;
  for (const auto& [dev, pts] : series) {
    const std::string& col = kPalette[k % std::size(kPalette)];
    for (const auto& p : pts) {
      double ly = Y(p.y) - 6;
      for (bool moved = true; moved;) {
        moved = false;
        for (const auto& [px, py] : placed)
          if (std::fabs(px - X(p.x)) < 60 && std::fabs(py - ly) < 12) {
            ly = py + 13;
            moved = true;
          }
      }
      placed.emplace_back(X(p.x), ly);
      o += fmt::format("<g><title>{} on {}: {} at {} bytes</title><circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" "
                       "fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\" class=\"pt\" style=\"fill:{}\">{}</text></g>",
                       esc(p.label), esc(dev), format_value(*metric, p.y), p.x, X(p.x), Y(p.y), col, X(p.x) + 7, ly,
                       col, esc(p.label));
    }
    o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" "
                     "class=\"axis\">{}</text>",
                     w - r + 14, t + 18 * int(k), col, w - r + 30, t + 18 * int(k) + 10, esc(dev));
    ++k;
  }
  o += "</svg></figure>\n";
  return o;
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 6px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#1a7f37}.fail{background:#cf222e}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}
.maps{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-weight:600;margin:4px 0}
.unit{font-weight:400;color:#666}svg text{font-size:12px;fill:#222}
svg .col{text-anchor:middle}svg .rowl{text-anchor:end}svg .cell{text-anchor:middle;font-size:11px}
svg .axis{font-size:11px;fill:#444}svg .pt{font-size:11px}.meta{color:#555}
)";

}  // namespace

std::string render_html(const Scorecard& s) {
  const bool pass = s.verdict == "pass";
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  o += fmt::format("<title>vkq scorecard: {}</title><style>{}</style></head><body>\n", esc(s.name), kStyle);
  o += fmt::format("<h1>vkq scorecard: {} <span class=\"badge {}\">{}</span></h1>\n", esc(s.name),
                   pass ? "pass" : "fail", pass ? "PASS" : "FAIL");
  o += fmt::format("<p class=\"meta\">{} gated rows, {} failed · reference <b>{}</b> · vkq {} · {} → {} · {} "
                   "bootstrap resamples, {:g}% intervals</p>\n",
                   s.gated_rows, s.failed_rows, esc(s.reference().name), esc(s.run.value("vkq_version", std::string())),
                   esc(s.run.value("started", std::string())), esc(s.run.value("finished", std::string())),
                   s.bootstrap.resamples, s.bootstrap.confidence * 100);
  o += "<table><tr><th>device</th><th>name</th><th>driver</th><th>UUID</th></tr>";
  for (const auto& d : s.devices)
    o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(d.id), esc(d.name), esc(d.driver),
                     esc(d.uuid.empty() ? "—" : d.uuid));
  o += "</table><table><tr><th>eval set</th><th>version</th><th>items</th><th>sha256</th></tr>";
  for (const auto& set : s.sets)
    o += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>", esc(set.name),
                     esc(set.version), set.items.size(), esc(set.sha256));
  o += "</table>\n";

  if (s.failed_rows) {
    o += "<h2>Failed gates</h2><table><tr><th>variant</th><th>device</th><th>slice</th><th>metric</th><th>value</th>"
         "<th>Δ vs reference [CI]</th><th>allowed</th></tr>";
    for (const auto& r : s.rows)
      if (r.verdict == "fail")
        o += fmt::format("<tr><td>{}</td><td>{}</td><td>{}/{}</td><td>{}/{}</td><td class=\"num\">{}</td>"
                         "<td class=\"num\">{} [{}, {}]</td><td class=\"num\">{}</td></tr>",
                         esc(r.variant), esc(r.device), esc(r.eval_set), esc(r.slice), esc(r.dimension),
                         metric_name(r.metric), format_value(r.metric, r.value), format_delta(r.metric, r.delta),
                         format_delta(r.metric, r.delta_ci.lo), format_delta(r.metric, r.delta_ci.hi),
                         format_delta(r.metric, r.gate->threshold));
    o += "</table>\n";
  }

  for (const auto& d : s.devices) {
    o += fmt::format("<h2>{} <span class=\"unit\">({})</span></h2>\n", esc(d.name), esc(d.id));
    for (const auto& set : s.sets) {
      o += "<div class=\"maps\">";
      for (const auto& dim : set.dimensions)
        for (const Metric m : dim.metrics) o += heatmap(s, d.id, set, dim, m);
      o += "</div>\n";
    }
  }
  o += "<h2>Accuracy against bytes</h2>\n" + accuracy_chart(s);
  o += "<h2>Speed and memory</h2><table><tr><th>variant</th><th>device</th><th>file bytes</th><th>prefill tok/s</th>"
       "<th>decode tok/s</th><th>memory predicted</th><th>measured</th></tr>";
  for (const auto& f : s.fit)
    o += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0f}</td>"
                     "<td class=\"num\">{:.0f}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                     esc(f.variant), esc(f.device), f.model_bytes, f.timing.prefill_tokens_per_s(),
                     f.timing.decode_tokens_per_s(), f.memory.known ? std::to_string(f.memory.predicted) : "n/a",
                     f.memory.known ? std::to_string(f.memory.measured) : "n/a");
  o += "</table>\n</body></html>\n";
  return o;
}

}  // namespace vkq::eval
