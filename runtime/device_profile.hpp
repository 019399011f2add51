// VKQ_DEVICE_PROFILE: masks device features and lowers limits so that every
// fallback kernel path runs, and is tested, on any device (lavapipe in CI).
//
// A profile is a comma-separated list of tokens:
//   no-subgroup-arith   no subgroup arithmetic (subgroupAdd, ...)
//   no-subgroup         no subgroup operations beyond what Vulkan 1.1 requires of none
//   no-fp16             no shaderFloat16 arithmetic
//   no-int8-storage     no 8-bit storage buffers / int8 arithmetic
//   no-16bit-storage    no 16-bit storage buffers
//   no-int-dot          no integer dot product
//   no-int64-atomics    no 64-bit integer atomics on buffers (shaderBufferInt64Atomics)
//   no-coopmat          no cooperative matrix (neither KHR nor NV_cooperative_matrix2)
//   no-coopmat2         no VK_NV_cooperative_matrix2 (the KHR shapes stay)
//   no-memory-budget    ignore VK_EXT_memory_budget
//   shared-mem=N        at most N bytes of shared memory per workgroup
//   max-buffer-range=N  at most N bytes per storage-buffer binding
//   max-alloc=N         at most N bytes per allocation
//   max-invocations=N   at most N invocations per workgroup
//   subgroup-size=N     pipelines require subgroup size N (device must allow it)
// and presets that bundle the limits of device classes (see kPresets in the
// .cpp for the reason behind each limit):
//   adreno-like, mali-like, rpi5-like, no-extensions
// Sizes take an optional K/M/G (or KiB/MiB/GiB) suffix, powers of 1024.
// An unknown token is an InputError (exit 2) naming it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "device_caps.hpp"

namespace vkq {

struct DeviceProfile {
  std::string text;  // as given, for reports
  bool no_subgroup_arith = false;
  bool no_subgroup = false;
  bool no_fp16 = false;
  bool no_int8_storage = false;
  bool no_16bit_storage = false;
  bool no_int_dot = false;
  bool no_int64_atomics = false;
  bool no_coopmat = false;
  bool no_coopmat2 = false;
  bool no_memory_budget = false;
  bool no_subgroup_size_control = false;
  std::optional<uint64_t> shared_mem, max_buffer_range, max_alloc, max_invocations;
  std::optional<uint32_t> subgroup_size;

  bool empty() const { return text.empty(); }
};

// Parses a profile string; throws InputError naming a bad token.
DeviceProfile parse_device_profile(const std::string& text);

// Applies the profile to caps read from the driver. Throws InputError when a
// token cannot hold on this device (e.g. subgroup-size outside its range).
DeviceCaps apply_device_profile(DeviceCaps caps, const DeviceProfile& profile);

// Parses "16384", "32K", "128MiB", "1G". Throws InputError naming `what`.
uint64_t parse_size(const std::string& text, const std::string& what);

// Names and descriptions of the presets, for docs and --help.
std::vector<std::pair<std::string, std::string>> device_profile_presets();

}  // namespace vkq
