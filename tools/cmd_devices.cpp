// vkq devices [--json] [--device D]: one row per Vulkan device with the
// capabilities kernel selection uses (after VKQ_DEVICE_PROFILE).
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "device.hpp"
#include "device_profile.hpp"
#include "error.hpp"
#include "instance.hpp"

namespace vkq::cli {
namespace {

std::string short_size(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.0f}G", double(b) / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{}M", b >> 20);
  if (b >= (1ull << 10)) return fmt::format("{}K", b >> 10);
  return fmt::format("{}", b);
}

std::string coopmat_cell(const DeviceCaps& c) {
  if (!c.coopmat) return c.coopmat2_nv ? "NV2" : "no";
  // The fp16 x fp16 -> fp32 subgroup shape the GEMM uses, if listed.
  std::string s = "KHR";
  for (const auto& sh : c.coopmat_shapes)
    if (sh.a_type == "f16" && sh.c_type == "f32" && sh.scope == "subgroup") {
      s = fmt::format("{}x{}x{}", sh.m, sh.n, sh.k);
      break;
    }
  return c.coopmat2_nv ? s + "+NV2" : s;
}

std::string truncate(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

void print_table(const std::vector<std::pair<DeviceCaps, std::string>>& rows) {
  std::printf("%-2s %-26s %-8s %-7s %-18s %-7s %-4s %-4s %-6s %-13s %-5s %-6s %s\n", "#", "device", "type", "vulkan",
              "driver", "subgrp", "fp16", "i8st", "dot4x8", "coopmat", "smem", "maxbuf", "memory");
  for (const auto& [c, rejected] : rows) {
    const std::string sg = c.min_subgroup_size != c.max_subgroup_size
                               ? fmt::format("{}:{}-{}", c.subgroup_size, c.min_subgroup_size, c.max_subgroup_size)
                               : fmt::format("{}", c.subgroup_size);
    const std::string sgop = c.subgroup_arith ? "" : (c.subgroup_basic ? "b" : "-");
    const std::string dot = c.int_dot ? (c.int_dot_4x8_accel ? "accel" : "slow") : "no";
    const std::string driver = truncate(c.driver_info.empty() ? fmt::format("{} {}", c.driver_name, c.driver_version_str) : c.driver_info, 18);
    std::printf("%-2u %-26s %-8s %-7s %-18s %-7s %-4s %-4s %-6s %-13s %-5s %-6s %s\n", c.index,
                truncate(c.name, 26).c_str(), c.device_type.c_str(), c.api_version_str.c_str(), driver.c_str(),
                (sg + sgop).c_str(), c.fp16 ? "yes" : "no", (c.storage8 && c.int8) ? "yes" : "no", dot.c_str(),
                coopmat_cell(c).c_str(), short_size(c.max_shared_memory).c_str(),
                short_size(c.max_storage_buffer_range).c_str(), format_bytes(c.device_local_bytes()).c_str());
    if (!rejected.empty()) std::printf("   rejected: %s\n", rejected.c_str());
    if (!c.profile.empty()) std::printf("   VKQ_DEVICE_PROFILE: %s\n", c.profile.c_str());
  }
  std::printf("subgrp: size[:min-max], b = no subgroup arithmetic; i8st: 8-bit storage; dot4x8: integer dot product; "
              "smem: shared memory; maxbuf: maxStorageBufferRange\n");
}

}  // namespace

void add_devices_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("devices", "List Vulkan devices and their capabilities");
  struct Opts {
    bool json = false;
    std::string device;
  };
  auto opts = std::make_shared<Opts>();
  sub->add_flag("--json", opts->json, "Print one JSON document with every capability");
  sub->add_option("--device", opts->device, "Show only this device (index, name substring; default all)");
  sub->callback([&cli, opts] {
    Instance inst;
    const auto profile = parse_device_profile(DeviceOptions::from_env().profile);
    std::vector<std::pair<DeviceCaps, std::string>> rows;
    if (!opts->device.empty()) {
      if (opts->device == "cpu") throw InputError("'cpu' is the CPU reference, not a Vulkan device", "devices: " + inst.describe_devices());
      const auto idx = inst.select(opts->device);
      const auto& e = inst.devices()[idx];
      rows.emplace_back(apply_device_profile(e.caps, profile), e.rejected);
    } else {
      for (const auto& e : inst.devices()) {
        // A profile that cannot hold on a device (e.g. subgroup-size) is an
        // error only where that device is used; list it unmasked here.
        DeviceCaps c = e.caps;
        try {
          c = apply_device_profile(e.caps, profile);
        } catch (const InputError&) {
        }
        rows.emplace_back(c, e.rejected);
      }
    }
    if (opts->json) {
      nlohmann::json j = {{"schema", "vkq.devices/1"}, {"vkq_version", VKQ_VERSION}, {"devices", nlohmann::json::array()}};
      for (const auto& [c, rej] : rows) {
        auto d = to_json(c);
        d["rejected"] = rej;
        j["devices"].push_back(d);
      }
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      if (rows.empty()) std::printf("no Vulkan devices\n");
      else print_table(rows);
    }
    cli.result = 0;
  });
}

}  // namespace vkq::cli
