// The scorecard runner: every variant on every device over every eval set.
//
// Devices run side by side, one thread each. Per device, the reference runs first: its results and per-position top-k
// come from the reference cache (reference_cache.hpp) when an earlier run
// on the same device, driver, model and eval set left them, else it runs
// and fills the cache. Then each other variant runs, its fidelity streamed
// against the reference's top-k. Every finished unit goes to the journal
// (journal.hpp) in the output folder at once; with `resume`, units already
// there are taken from it instead of run again. Nothing here writes the
// reports: the caller does, from the Scorecard returned (reports.hpp), so an
// interrupted run never touches the previous report.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "scorecard.hpp"
#include "scorecard_config.hpp"

namespace vkq::eval {

struct RunProgress {
  std::string device, variant, eval_set;
  size_t unit = 0, units = 0;  // this unit's number (1-based) of all
  size_t item = 0, items = 0;
};

struct RunnerOptions {
  std::string out_dir;    // the journal lives here
  bool resume = false;
  std::string cache_dir;  // "" = scorecard_cache_dir()
  std::string command;    // for the report's metadata
  // Callbacks, called from the device threads one at a time (under a lock).
  std::function<void(const std::string&)> note;          // one-line status messages
  std::function<void(const RunProgress&)> progress;
  std::function<void(size_t units_in_journal)> unit_done;  // after each unit is journaled
};

Scorecard run_scorecard(const ScorecardConfig& cfg, const RunnerOptions& o);

}  // namespace vkq::eval
