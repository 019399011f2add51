#include "bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq::eval {
namespace {

void check(const BootstrapOptions& o) {
  if (o.resamples < 10 || o.resamples > 1000000)
    throw InputError(fmt::format("bootstrap resamples {} must be in 10 .. 1000000", o.resamples));
  if (!(o.confidence > 0 && o.confidence < 1))
    throw InputError(fmt::format("bootstrap confidence {} must be in (0, 1)", o.confidence));
}

// The high 64 bits of a * b (portable: no 128-bit integer type).
uint64_t mul_high(uint64_t a, uint64_t b) {
  const uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

// Index in [0, n) from 64 random bits: floor(r * n / 2^64).
size_t draw(std::mt19937_64& g, size_t n) { return static_cast<size_t>(mul_high(g(), n)); }

double stat_of(double num, double den, bool exp_of_ratio) {
  const double r = den > 0 ? num / den : 0;
  return exp_of_ratio ? std::exp(r) : r;
}

double quantile_sorted(const std::vector<double>& v, double q) {
  const double pos = q * double(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

Interval percentile(std::vector<double> stats, double confidence) {
  std::sort(stats.begin(), stats.end());
  const double a = (1 - confidence) / 2;
  return {quantile_sorted(stats, a), quantile_sorted(stats, 1 - a)};
}

}  // namespace

double ratio_statistic(std::span<const Sample> s, bool exp_of_ratio) {
  if (s.empty()) return 0;
  double num = 0, den = 0;
  for (const auto& x : s) {
    num += x.num;
    den += x.den;
  }
  return stat_of(num, den, exp_of_ratio);
}

Interval bootstrap_ci(std::span<const Sample> s, bool exp_of_ratio, const BootstrapOptions& o) {
  check(o);
  if (s.empty()) return {};
  std::mt19937_64 g(o.seed);
  std::vector<double> stats(o.resamples);
  for (auto& st : stats) {
    double num = 0, den = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const auto& x = s[draw(g, s.size())];
      num += x.num;
      den += x.den;
    }
    st = stat_of(num, den, exp_of_ratio);
  }
  return percentile(std::move(stats), o.confidence);
}

Interval paired_bootstrap_delta_ci(std::span<const Sample> a, std::span<const Sample> b, bool exp_of_ratio,
                                   const BootstrapOptions& o) {
  check(o);
  if (a.size() != b.size())
    throw InputError(fmt::format("paired bootstrap: {} items against {}", a.size(), b.size()));
  if (a.empty()) return {};
  std::mt19937_64 g(o.seed);
  std::vector<double> stats(o.resamples);
  for (auto& st : stats) {
    double na = 0, da = 0, nb = 0, db = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const size_t j = draw(g, a.size());
      na += a[j].num;
      da += a[j].den;
      nb += b[j].num;
      db += b[j].den;
    }
    st = stat_of(na, da, exp_of_ratio) - stat_of(nb, db, exp_of_ratio);
  }
  return percentile(std::move(stats), o.confidence);
}

uint64_t row_seed(uint64_t base, std::string_view key) {
  uint64_t h = 1469598103934665603ull ^ base;
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace vkq::eval
