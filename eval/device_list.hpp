// The devices a scorecard runs on, from the config's list: "all" (every
// usable Vulkan device), an index or a name substring (Instance::select),
// "cpu" (the CPU reference forward pass). Each device gets a stable id, so
// rows from shards produced on different machines stay apart and the same
// device is recognised again (resume, reference cache):
//   "cpu"                            the reference implementation
//   "vk-<first 12 hex of UUID>"      a Vulkan device (+ "-<profile>" under VKQ_DEVICE_PROFILE)
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vkq::eval {

struct DeviceEntry {
  std::string id;      // stable (above)
  std::string spec;    // what open_llama_session takes: "cpu" or the index
  std::string name;    // "cpu", "llvmpipe (LLVM 15.0.6, 256 bits)", ...
  std::string type;    // "cpu-reference", "discrete", "integrated", "cpu", ...
  std::string driver;  // "Mesa 25.0.7 (llvmpipe)", "" for the reference
  std::string uuid;    // device UUID (32 hex), "" for the reference
  std::string profile; // VKQ_DEVICE_PROFILE
  // What results depend on, for cache keys: the device, its driver, the profile.
  std::string identity() const;
  nlohmann::json to_json() const;
  static DeviceEntry from_json(const nlohmann::json& j, const std::string& where);
};

// Resolves the config's list, in its order, each device once. InputError
// for a name or index that matches nothing; DeviceError when Vulkan devices
// are asked for and there is no Vulkan.
std::vector<DeviceEntry> resolve_devices(const std::vector<std::string>& specs);

}  // namespace vkq::eval
