#include "device_profile.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {

struct Preset {
  const char* name;
  const char* tokens;
  const char* why;
};

// Device classes, from ../shared/notes/vulkan-devices.md and drivers' reports.
const Preset kPresets[] = {
    {"adreno-like", "no-int8-storage,no-coopmat,shared-mem=32K,max-buffer-range=128M,max-alloc=1G",
     "Adreno 6xx/7xx: 8-bit storage missing on some drivers, 32 KiB shared memory, maxStorageBufferRange 128 MiB, "
     "allocations above 1 GiB fail"},
    {"mali-like", "no-subgroup-arith,no-coopmat,shared-mem=32K",
     "Mali Valhall: subgroup arithmetic in compute is driver-dependent, 32 KiB shared memory"},
    {"rpi5-like", "no-fp16,no-int-dot,no-coopmat,no-subgroup-arith,shared-mem=16K,max-invocations=256",
     "Raspberry Pi 5 (V3D 7): 256 invocations per workgroup, no fp16 arithmetic, 16 KiB shared memory"},
    {"no-extensions",
     "no-subgroup-arith,no-fp16,no-int8-storage,no-16bit-storage,no-int-dot,no-int64-atomics,no-coopmat,no-memory-budget,"
     "no-subgroup-size-control",
     "plain Vulkan 1.2 compute: only what the core spec requires of every device"},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

void apply_token(DeviceProfile& p, const std::string& tok, int depth) {
  const auto eq = tok.find('=');
  const std::string key = tok.substr(0, eq);
  const std::string val = eq == std::string::npos ? "" : tok.substr(eq + 1);
  auto need_value = [&](bool has) {
    if (has != (eq != std::string::npos))
      throw InputError(fmt::format("VKQ_DEVICE_PROFILE: token '{}' {} a value", tok, has ? "needs" : "takes no"));
  };
  if (depth == 0) {
    for (const auto& pr : kPresets) {
      if (key == pr.name) {
        need_value(false);
        std::string t = pr.tokens;
        size_t start = 0;
        while (start <= t.size()) {
          size_t end = t.find(',', start);
          if (end == std::string::npos) end = t.size();
          apply_token(p, t.substr(start, end - start), depth + 1);
          start = end + 1;
        }
        return;
      }
    }
  }
  auto lower_limit = [](std::optional<uint64_t>& slot, uint64_t v) { slot = slot ? std::min(*slot, v) : v; };
  if (key == "no-subgroup-arith") { need_value(false); p.no_subgroup_arith = true; }
  else if (key == "no-subgroup") { need_value(false); p.no_subgroup = true; }
  else if (key == "no-fp16") { need_value(false); p.no_fp16 = true; }
  else if (key == "no-int8-storage") { need_value(false); p.no_int8_storage = true; }
  else if (key == "no-16bit-storage") { need_value(false); p.no_16bit_storage = true; }
  else if (key == "no-int-dot") { need_value(false); p.no_int_dot = true; }
  else if (key == "no-int64-atomics") { need_value(false); p.no_int64_atomics = true; }
  else if (key == "no-coopmat") { need_value(false); p.no_coopmat = true; }
  else if (key == "no-coopmat2") { need_value(false); p.no_coopmat2 = true; }
  else if (key == "no-memory-budget") { need_value(false); p.no_memory_budget = true; }
  else if (key == "no-subgroup-size-control") { need_value(false); p.no_subgroup_size_control = true; }
  else if (key == "shared-mem") { need_value(true); lower_limit(p.shared_mem, parse_size(val, tok)); }
  else if (key == "max-buffer-range") { need_value(true); lower_limit(p.max_buffer_range, parse_size(val, tok)); }
  else if (key == "max-alloc") { need_value(true); lower_limit(p.max_alloc, parse_size(val, tok)); }
  else if (key == "max-invocations") { need_value(true); lower_limit(p.max_invocations, parse_size(val, tok)); }
  else if (key == "subgroup-size") {
    need_value(true);
    const uint64_t n = parse_size(val, tok);
    if (n == 0 || n > 128 || (n & (n - 1)))
      throw InputError(fmt::format("VKQ_DEVICE_PROFILE: '{}': subgroup size must be a power of two up to 128", tok));
    p.subgroup_size = static_cast<uint32_t>(n);
  } else {
    std::string presets;
    for (const auto& pr : kPresets) presets += std::string(presets.empty() ? "" : ", ") + pr.name;
    throw InputError(fmt::format("VKQ_DEVICE_PROFILE: unknown token '{}'", tok),
                     fmt::format("tokens: no-subgroup-arith, no-subgroup, no-fp16, no-int8-storage, no-16bit-storage, "
                                 "no-int-dot, no-int64-atomics, no-coopmat, no-coopmat2, no-memory-budget, no-subgroup-size-control, shared-mem=N, "
                                 "max-buffer-range=N, max-alloc=N, max-invocations=N, subgroup-size=N; presets: {}",
                                 presets));
  }
}

}  // namespace

uint64_t parse_size(const std::string& text, const std::string& what) {
  std::string s = lower(text);
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || i > 18) throw InputError(fmt::format("'{}': '{}' is not a size (e.g. 16384, 32K, 128MiB)", what, text));
  uint64_t v = std::stoull(s.substr(0, i));
  const std::string suf = s.substr(i);
  uint64_t mul = 1;
  if (suf.empty() || suf == "b") mul = 1;
  else if (suf == "k" || suf == "kib" || suf == "kb") mul = 1ull << 10;
  else if (suf == "m" || suf == "mib" || suf == "mb") mul = 1ull << 20;
  else if (suf == "g" || suf == "gib" || suf == "gb") mul = 1ull << 30;
  else if (suf == "t" || suf == "tib" || suf == "tb") mul = 1ull << 40;
  else throw InputError(fmt::format("'{}': unknown size suffix '{}' (use K, M, G, T)", what, suf));
  if (v > (UINT64_MAX / mul)) throw InputError(fmt::format("'{}': size too large", what));
  return v * mul;
}

DeviceProfile parse_device_profile(const std::string& text) {
  DeviceProfile p;
  p.text = text;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string tok = text.substr(start, end - start);
    tok.erase(0, tok.find_first_not_of(" \t"));
    tok.erase(tok.find_last_not_of(" \t") + 1);
    if (!tok.empty()) apply_token(p, lower(tok), 0);
    start = end + 1;
  }
  return p;
}

DeviceCaps apply_device_profile(DeviceCaps c, const DeviceProfile& p) {
  if (p.empty()) return c;
  c.profile = p.text;
  if (p.no_subgroup) {
    c.subgroup_basic = c.subgroup_vote = c.subgroup_arith = c.subgroup_ballot = false;
    c.subgroup_shuffle = c.subgroup_clustered = false;
  }
  if (p.no_subgroup_arith) c.subgroup_arith = c.subgroup_clustered = false;
  if (p.no_fp16) c.fp16 = false;
  if (p.no_int8_storage) c.storage8 = c.int8 = false;
  if (p.no_16bit_storage) c.storage16 = false;
  if (p.no_int_dot) c.int_dot = c.int_dot_4x8_accel = false;
  if (p.no_int64_atomics) c.int64_atomics = false;
  if (p.no_coopmat) {
    c.coopmat = false;
    c.coopmat_shapes.clear();
  }
  if (p.no_coopmat || p.no_coopmat2) {
    c.coopmat2_nv = c.coopmat2 = false;
    c.coopmat2_shapes.clear();
  }
  if (p.no_memory_budget) {
    c.memory_budget_ext = false;
    for (auto& h : c.heaps) h.budget = h.usage = 0;
  }
  if (p.no_subgroup_size_control) c.subgroup_size_control = false;
  if (p.shared_mem) c.max_shared_memory = static_cast<uint32_t>(std::min<uint64_t>(c.max_shared_memory, *p.shared_mem));
  if (p.max_buffer_range) c.max_storage_buffer_range = std::min(c.max_storage_buffer_range, *p.max_buffer_range);
  if (p.max_alloc) c.max_memory_allocation_size = std::min(c.max_memory_allocation_size, *p.max_alloc);
  if (p.max_invocations) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(c.max_workgroup_invocations, *p.max_invocations));
    c.max_workgroup_invocations = n;
    for (auto& s : c.max_workgroup_size) s = std::min(s, n);
  }
  if (p.subgroup_size) {
    const uint32_t n = *p.subgroup_size;
    if (!c.subgroup_size_control || n < c.min_subgroup_size || n > c.max_subgroup_size)
      throw InputError(fmt::format("VKQ_DEVICE_PROFILE: subgroup-size={} is not possible on '{}' (size control {}, "
                                   "sizes {}..{})",
                                   n, c.name, c.subgroup_size_control ? "yes" : "no", c.min_subgroup_size,
                                   c.max_subgroup_size));
    c.forced_subgroup_size = n;
    c.subgroup_size = n;
  }
  return c;
}

std::vector<std::pair<std::string, std::string>> device_profile_presets() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : kPresets) out.emplace_back(p.name, fmt::format("{} ({})", p.tokens, p.why));
  return out;
}

}  // namespace vkq
