// Confidence intervals by bootstrap over items. A statistic is a ratio of
// sums over items (metric.hpp): value = f(sum num / sum den), f the identity
// or exp (perplexity). Resampling draws items with replacement; the paired
// version draws the same items for both sides, so what the two runs share
// (an item that is hard for both) cancels out of the difference.
//
// Draws are defined by the seed alone: std::mt19937_64's output (fixed by
// the C++ standard) mapped to an index by multiply-high, not by a standard
// library distribution (whose algorithm varies between libraries). So the
// same seed gives the same interval everywhere, and reports reproduce.
// Interval: percentile method (linear interpolation between order
// statistics, as numpy's default quantile).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace vkq::eval {

struct Sample {
  double num = 0, den = 0;  // den > 0
};

struct Interval {
  double lo = 0, hi = 0;
};

struct BootstrapOptions {
  uint32_t resamples = 1000;
  double confidence = 0.95;
  uint64_t seed = 0;
};

// f(sum num / sum den); 0 for an empty span.
double ratio_statistic(std::span<const Sample> s, bool exp_of_ratio);

// CI of ratio_statistic over items.
Interval bootstrap_ci(std::span<const Sample> s, bool exp_of_ratio, const BootstrapOptions& o);

// CI of statistic(a) - statistic(b), a[i] and b[i] the same item.
// InputError unless the spans have the same length.
Interval paired_bootstrap_delta_ci(std::span<const Sample> a, std::span<const Sample> b, bool exp_of_ratio,
                                   const BootstrapOptions& o);

// A seed for one row of a report: the run's seed mixed with the row's key
// (FNV-1a), so each row's interval is fixed whatever else the run contains
// (the same in a shard and in the merged report, after a resume or not).
uint64_t row_seed(uint64_t base, std::string_view key);

}  // namespace vkq::eval
