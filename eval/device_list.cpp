#include "device_list.hpp"

#include <memory>

#include <fmt/format.h>

#include "device.hpp"
#include "error.hpp"
#include "instance.hpp"

namespace vkq::eval {
namespace {

DeviceEntry cpu_entry() {
  DeviceEntry d;
  d.id = "cpu";
  d.spec = "cpu";
  d.name = "cpu";
  d.type = "cpu-reference";
  d.driver = std::string("vkq ") + VKQ_VERSION + " CPU reference forward pass";
  return d;
}

DeviceEntry vulkan_entry(const DeviceCaps& caps, const std::string& profile) {
  DeviceEntry d;
  d.uuid = caps.device_uuid;
  d.id = "vk-" + caps.device_uuid.substr(0, 12);
  d.profile = profile;
  if (!profile.empty()) {
    std::string p;
    for (const char ch : profile) p += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
    d.id += "-" + p;
  }
  d.spec = std::to_string(caps.index);
  d.name = caps.name;
  d.type = caps.device_type;
  d.driver = caps.driver_name.empty() ? caps.driver_version_str
                                      : fmt::format("{} {}", caps.driver_name, caps.driver_info);
  return d;
}

}  // namespace

std::string DeviceEntry::identity() const {
  return fmt::format("{}|{}|{}|{}|{}", id, name, driver, uuid, profile);
}

nlohmann::json DeviceEntry::to_json() const {
  return {{"id", id}, {"name", name}, {"type", type}, {"driver", driver}, {"uuid", uuid}, {"profile", profile}};
}

DeviceEntry DeviceEntry::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    DeviceEntry d;
    d.id = j.at("id").get<std::string>();
    d.name = j.at("name").get<std::string>();
    d.type = j.at("type").get<std::string>();
    d.driver = j.at("driver").get<std::string>();
    d.uuid = j.at("uuid").get<std::string>();
    d.profile = j.at("profile").get<std::string>();
    d.spec = d.id == "cpu" ? "cpu" : "";
    return d;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: a device entry is malformed: {}", where, e.what()));
  }
}

std::vector<DeviceEntry> resolve_devices(const std::vector<std::string>& specs) {
  std::vector<DeviceEntry> out;
  std::unique_ptr<Instance> inst;
  std::string profile;
  auto add = [&](DeviceEntry d) {
    for (const auto& e : out)
      if (e.id == d.id) return;
    out.push_back(std::move(d));
  };
  for (const auto& s : specs) {
    if (s == "cpu") {
      add(cpu_entry());
      continue;
    }
    if (!inst) {
      inst = std::make_unique<Instance>();
      profile = DeviceOptions::from_env().profile;
    }
    if (s == "all") {
      size_t n = 0;
      for (const auto& e : inst->devices())
        if (e.rejected.empty()) {
          add(vulkan_entry(e.caps, profile));
          ++n;
        }
      if (n == 0) throw DeviceError("devices = \"all\": no usable Vulkan device", "vkq devices lists what the loader sees");
      continue;
    }
    const uint32_t idx = inst->select(s);
    add(vulkan_entry(inst->devices()[idx].caps, profile));
  }
  return out;
}

}  // namespace vkq::eval
