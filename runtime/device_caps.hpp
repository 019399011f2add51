// DeviceCaps: what a Vulkan physical device can do, read from the driver, and
// (after VKQ_DEVICE_PROFILE masking, see device_profile.hpp) what vkq lets
// itself use. Kernel variant selection reads only this struct.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vulkan.hpp"

namespace vkq {

struct CoopMatShape {
  uint32_t m = 0, n = 0, k = 0;
  std::string a_type, b_type, c_type, result_type;  // "f16", "f32", "s8", ...
  std::string scope;                                 // "subgroup", "workgroup", ...
  // VK_NV_cooperative_matrix2's flexible shapes: m, n, k are granularities
  // (any multiple runs) and the shape holds only in workgroups of this
  // many invocations; 0 for the fixed KHR shapes.
  uint32_t invocations = 0;
};

struct MemoryHeapInfo {
  uint64_t size = 0;
  bool device_local = false;
  uint64_t budget = 0;  // VK_EXT_memory_budget; 0 when unknown
  uint64_t usage = 0;   // VK_EXT_memory_budget; 0 when unknown
};

struct DeviceCaps {
  // Identity.
  uint32_t index = 0;  // position in vkEnumeratePhysicalDevices
  std::string name;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;
  std::string vendor;       // from vendor_id
  std::string device_type;  // "discrete", "integrated", "virtual", "cpu", "other"
  uint32_t api_version = 0;
  uint32_t driver_version = 0;
  std::string api_version_str;
  std::string driver_version_str;  // decoded per vendor convention
  std::string driver_name;         // VkPhysicalDeviceDriverProperties
  std::string driver_info;
  std::string device_uuid;         // 32 hex digits
  std::string driver_uuid;

  // Subgroups.
  uint32_t subgroup_size = 0;
  uint32_t min_subgroup_size = 0;
  uint32_t max_subgroup_size = 0;
  bool subgroup_size_control = false;  // pipelines may require a subgroup size
  bool subgroup_in_compute = false;    // subgroup ops supported in compute stage
  bool subgroup_basic = false;
  bool subgroup_vote = false;
  bool subgroup_arith = false;
  bool subgroup_ballot = false;
  bool subgroup_shuffle = false;
  bool subgroup_clustered = false;
  uint32_t forced_subgroup_size = 0;  // profile subgroup-size=N; 0 = driver's choice
  // The subgroup sizes a pipeline may run with: [min, max] around the
  // default size, or the forced one.
  uint32_t smallest_subgroup() const {
    const uint32_t sg = std::max<uint32_t>(subgroup_size, 1);
    return forced_subgroup_size ? sg : std::clamp<uint32_t>(min_subgroup_size, 1, sg);
  }
  uint32_t largest_subgroup() const {
    const uint32_t sg = std::max<uint32_t>(subgroup_size, 1);
    return forced_subgroup_size ? sg : std::max<uint32_t>(max_subgroup_size, sg);
  }

  // Arithmetic and storage types.
  bool fp16 = false;           // shaderFloat16
  bool int8 = false;           // shaderInt8
  bool int16 = false;          // shaderInt16
  bool int64 = false;          // shaderInt64
  bool storage8 = false;       // storageBuffer8BitAccess
  bool storage16 = false;      // storageBuffer16BitAccess
  bool int_dot = false;        // shaderIntegerDotProduct
  bool int_dot_4x8_accel = false;  // 4x8 packed signed (or mixed) accelerated
  bool int64_atomics = false;  // shaderInt64 and shaderBufferInt64Atomics (implies int64)
  bool coopmat = false;        // VK_KHR_cooperative_matrix
  bool coopmat2_nv = false;    // VK_NV_cooperative_matrix2 extension present
  // VK_NV_cooperative_matrix2 with what matmul_cm2.comp uses: workgroup
  // scope, flexible dimensions, tensor addressing and block loads (decode
  // functions), and the flexible shapes the driver lists.
  bool coopmat2 = false;
  uint32_t coopmat2_max_workgroup = 0;    // cooperativeMatrixWorkgroupScopeMaxWorkgroupSize
  uint32_t coopmat2_reserved_shared = 0;  // cooperativeMatrixWorkgroupScopeReservedSharedMemory
  std::vector<CoopMatShape> coopmat2_shapes;
  std::vector<CoopMatShape> coopmat_shapes;
  bool memory_budget_ext = false;
  // VK_KHR_pipeline_executable_properties: the driver reports what it
  // compiled a pipeline to (registers, shared memory, ...; DeviceOptions::kernel_stats).
  bool pipeline_stats_ext = false;
  bool timestamps = false;     // compute queue has timestamp bits
  float timestamp_period_ns = 0;

  // Limits.
  uint32_t max_shared_memory = 0;
  uint32_t max_workgroup_invocations = 0;
  std::array<uint32_t, 3> max_workgroup_size{};
  std::array<uint32_t, 3> max_workgroup_count{};
  uint64_t max_storage_buffer_range = 0;
  uint64_t max_memory_allocation_size = 0;
  uint32_t max_push_constants_size = 0;
  uint64_t min_storage_buffer_offset_alignment = 0;
  std::vector<MemoryHeapInfo> heaps;

  std::string profile;  // VKQ_DEVICE_PROFILE applied ("" = none)

  bool is_cpu() const { return device_type == "cpu"; }
  uint64_t device_local_bytes() const;
};

// Reads every field above from the driver. Only chains structures of
// extensions the device advertises.
DeviceCaps read_device_caps(const vk::raii::PhysicalDevice& pd, uint32_t index);

// Whether the driver lists a subgroup-scope cooperative-matrix shape
// M x N x K with A and B of `ab_type` and C and the result of `acc_type`.
bool has_coopmat_shape(const DeviceCaps& caps, uint32_t m, uint32_t n, uint32_t k, const std::string& ab_type,
                       const std::string& acc_type);

// The workgroup-scope flexible shapes (VK_NV_cooperative_matrix2) with A and
// B of `ab_type`, C and the result of `acc_type`, for workgroups within the
// limits (the driver's and the profile's), where coopmat2 holds.
std::vector<CoopMatShape> coopmat2_workgroup_shapes(const DeviceCaps& caps, const std::string& ab_type,
                                                    const std::string& acc_type);

// Feature names used by the variant table (shaders/variants.txt).
// coopmat_f16_16 = has_coopmat_shape(caps, 16, 16, 16, "f16", "f32");
// coopmat2_f16 = coopmat2_workgroup_shapes(caps, "f16", "f32") not empty.
// Returns false for a name the device lacks; throws InputError for an unknown name.
bool caps_have_feature(const DeviceCaps& caps, const std::string& feature);
const std::vector<std::string>& known_features();

std::string format_bytes(uint64_t bytes);
nlohmann::json to_json(const DeviceCaps& caps);

}  // namespace vkq
