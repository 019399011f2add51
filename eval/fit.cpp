#include "fit.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "gpu_weights.hpp"

namespace vkq::eval {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

struct Budget {
  uint64_t bytes = 0;
  std::string source;
};

Budget device_budget(const DeviceCaps& caps) {
  Budget b;
  bool have_budget = true;
  for (const auto& h : caps.heaps) {
    if (!h.device_local) continue;
    b.bytes += h.size;
    have_budget = have_budget && h.budget > 0;
  }
  if (have_budget && b.bytes) {
    uint64_t sum = 0;
    for (const auto& h : caps.heaps)
      if (h.device_local) sum += h.budget;
    return {sum, "memory budget"};
  }
  b.source = "heap size";
  return b;
}

uint64_t plan_total(const ForwardPlan& p, uint64_t reserve) { return p.peak_bytes() + reserve; }

}  // namespace

double nominal_bits(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 32;
    case GgmlType::F16:
    case GgmlType::BF16: return 16;
    case GgmlType::Q8_0: return 8;
    case GgmlType::Q4_0:
    case GgmlType::Q4_1: return 4;
    default: throw InputError(fmt::format("{}: not supported yet", ggml_type_name(t)));
  }
}

uint64_t driver_reserve_bytes(const DeviceCaps& caps) {
  // Not measured by vkq (its counters see only its own vkAllocateMemory):
  // a discrete GPU's driver context, pipelines and descriptor pools take a
  // few hundred MiB; CPU and integrated devices share host memory.
  return caps.device_type == "discrete" ? 256 * kMiB : 64 * kMiB;
}

DeviceCaps hypothetical_device(uint64_t memory) {
  DeviceCaps c;
  c.name = fmt::format("memory {}", format_bytes(memory));
  c.device_type = "discrete";
  c.max_storage_buffer_range = (4ull << 30) - 1;
  c.max_memory_allocation_size = 4ull << 30;
  c.heaps.push_back({memory, true, 0, 0});
  return c;
}

uint64_t parse_memory_size(const std::string& s_in) {
  std::string s;
  for (const char c : s_in)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  const std::string num = s.substr(0, i);
  std::string unit = s.substr(i);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  const auto bad = [&] {
    return InputError(fmt::format("--memory '{}': expected a size like 24GiB, 16G, 8000MB or 1073741824", s_in));
  };
  if (num.empty() || std::count(num.begin(), num.end(), '.') > 1) throw bad();
  double v = 0;
  try {
    v = std::stod(num);
  } catch (...) {
    throw bad();
  }
  static const std::map<std::string, double> units = {
      {"", 1},         {"b", 1},         {"k", 1024.0},     {"kib", 1024.0},   {"ki", 1024.0}, {"m", 1024.0 * 1024},
      {"mi", 1048576}, {"mib", 1048576}, {"g", 1073741824}, {"gi", 1073741824}, {"gib", 1073741824},
      {"t", 1099511627776.0}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0},
      {"kb", 1e3},     {"mb", 1e6},      {"gb", 1e9},       {"tb", 1e12}};
  const auto it = units.find(unit);
  if (it == units.end()) throw bad();
  const double bytes = v * it->second;
  if (!(bytes >= 1) || bytes > 1.8e19) throw bad();
  return static_cast<uint64_t>(bytes);
}

std::string FitResult::verdict() const {
  if (fits) return "fits";
  if (layers_that_fit > 0) return fmt::format("fits only with {} layers", layers_that_fit);
  return "does not fit";
}

uint64_t FitResult::component(const std::string& name) const {
  for (const auto& c : components)
    if (c.name == name) return c.bytes;
  return 0;
}

FitResult fit_model(const LlamaGpuLayout& layout, const DeviceCaps& caps, const FitOptions& opt,
                    std::optional<uint64_t> memory) {
  const auto& hp = layout.hp;
  FitResult r;
  r.target = memory ? fmt::format("memory {}", format_bytes(*memory)) : caps.name;
  r.ctx = opt.ctx ? opt.ctx : hp.context_length;
  if (r.ctx > hp.context_length) {
    if (!opt.force)
      throw InputError(fmt::format("a context of {} tokens is beyond the model's trained context of {}", r.ctx,
                                   hp.context_length),
                       "--force plans it anyway");
    r.warnings.push_back(fmt::format("context {} is beyond the model's trained context of {}", r.ctx, hp.context_length));
  }
  r.kv = opt.kv;
  const uint32_t ctx_limit = std::max(r.ctx, hp.context_length);

  // Parameters and the raw lower bound, per type.
  std::map<GgmlType, uint64_t> by_type;
  const uint64_t max_plane = max_plane_bytes(caps);
  for (const auto* m : layout.all_matrices()) {
    const uint64_t n = uint64_t(m->rows) * m->cols;
    r.params += n;
    by_type[m->type] += n;
    r.raw_weight_bytes += static_cast<uint64_t>(std::ceil(double(n) * nominal_bits(m->type) / 8));
    r.split_tensors += plan_chunks(m->type, m->rows, m->cols, max_plane).size() > 1;
  }
  GgmlType dominant = GgmlType::F32;
  uint64_t most = 0;
  for (const auto& [t, n] : by_type)
    if (n > most) most = n, dominant = t;
  r.nominal_bits = nominal_bits(dominant);

  const auto plan = plan_forward(layout, caps, {r.ctx, opt.batch, opt.kv});
  r.batch = plan.config.max_batch;
  const uint64_t reserve = driver_reserve_bytes(caps);
  for (const char* c : {"weights", "kv_cache", "activations", "scratch", "io"})
    r.components.push_back({c, plan.component_bytes(c)});
  r.components.push_back({"staging", plan.staging_bytes});
  r.components.push_back({"reserve", reserve});
  r.total = plan_total(plan, reserve);

  const Budget b = memory ? Budget{*memory, "--memory"} : device_budget(caps);
  r.budget = b.bytes;
  r.budget_source = b.source;
  r.headroom = int64_t(r.budget) - int64_t(r.total);
  r.fits = r.total <= r.budget;

  // Largest context that fits: the plan is monotonic in ctx (KV cache grows,
  // the rest does not shrink).
  auto fits_at = [&](uint32_t ctx) {
    return plan_total(plan_forward(layout, caps, {ctx, opt.batch, opt.kv}), reserve) <= r.budget;
  };
  if (fits_at(1)) {
    uint32_t lo = 1, hi = ctx_limit;
    if (fits_at(hi)) lo = hi;
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo + 1) / 2;
      if (fits_at(mid)) lo = mid;
      else hi = mid - 1;
    }
    r.max_ctx = lo;
  }

  if (!r.fits && hp.block_count) {
    // As a guide (vkq itself runs whole models on one device): the layers
    // whose weights and KV cache fit beside the rest.
    const uint64_t kv_layer = plan.component_bytes("kv_cache") / hp.block_count;
    auto bytes_of = [&](const GpuMatrixSpec& m) {
      uint64_t n = 0;
      for (const auto& c : plan_chunks(m.type, m.rows, m.cols, max_plane)) n += c.quant_bytes + c.scale_bytes;
      return n;
    };
    uint64_t layer_weights = 0;
    for (const auto& l : layout.layers) {
      for (const auto& m : l.qkv.matrices) layer_weights += bytes_of(m);
      for (const auto& m : l.gate_up.matrices) layer_weights += bytes_of(m);
      layer_weights += bytes_of(l.attn_output) + bytes_of(l.ffn_down);
    }
    const uint64_t per_layer = layer_weights / hp.block_count + kv_layer;
    const uint64_t all_layers = per_layer * hp.block_count;
    const uint64_t fixed = r.total > all_layers ? r.total - all_layers : 0;
    if (r.budget > fixed && per_layer)
      r.layers_that_fit = static_cast<uint32_t>(std::min<uint64_t>((r.budget - fixed) / per_layer, hp.block_count - 1));
  }
  return r;
}

nlohmann::json to_json(const FitResult& r) {
  nlohmann::json comps = nlohmann::json::object();
  for (const auto& c : r.components) comps[c.name] = c.bytes;
  return {{"target", r.target},
          {"ctx", r.ctx},
          {"batch", r.batch},
          {"kv_type", ops::kv_type_name(r.kv)},
          {"params", r.params},
          {"nominal_bits", r.nominal_bits},
          {"raw_weight_bytes", r.raw_weight_bytes},
          {"components", comps},
          {"total", r.total},
          {"budget", r.budget},
          {"budget_source", r.budget_source},
          {"headroom", r.headroom},
          {"fits", r.fits},
          {"verdict", r.verdict()},
          {"layers_that_fit", r.layers_that_fit},
          {"max_ctx", r.max_ctx},
          {"split_tensors", r.split_tensors},
          {"warnings", r.warnings}};
}

}  // namespace vkq::eval
