// The scorecard's reports, written into the output folder, each atomically
// (temporary file, then rename, runtime/atomic_file.hpp), so a killed run
// leaves the previous reports whole:
//   scorecard.json  the document (scorecard.hpp), "schema": "vkq.scorecard/1"
//   scorecard.md    what a PR comment holds: the verdict first, failed gates,
//                   then the worst slice per variant and device, speed and memory
//   scorecard.html  one self-contained page (inline CSS and SVG, no script,
//                   nothing fetched): per device a heatmap of the delta per
//                   slice x variant for each metric, an accuracy-vs-bytes
//                   chart, and the tables
#pragma once

#include <string>

#include "scorecard.hpp"

namespace vkq::eval {

std::string render_markdown(const Scorecard& s);
std::string render_html(const Scorecard& s);

// Writes the three files into `dir` (created if needed).
void write_reports(const Scorecard& s, const std::string& dir);
// One file, atomically.
void write_text_file(const std::string& path, const std::string& text);
// Removes what a run killed while writing the reports leaves in `dir`
// (scorecard.{json,md,html}.tmp-XXXXXX); the reports themselves are whole.
void remove_stale_report_temps(const std::string& dir);

// Formatting shared by the reports: a metric's value ("12.3%", "3.412",
// "0.0123") and a delta in the same units ("-1.2 pp", "+0.051").
std::string format_value(Metric m, double v);
std::string format_delta(Metric m, double d);
// The worst row of (variant, device) over slices (not the aggregate): a
// failed gate first, then the largest regression relative to its gate (or
// to the reference's value where no gate judges it). nullptr if none.
const Row* worst_row(const Scorecard& s, const std::string& variant, const std::string& device);

}  // namespace vkq::eval
