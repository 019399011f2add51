#include "device_caps.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error.hpp"

namespace vkq {
namespace {

std::string vendor_name(uint32_t id) {
  switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x1022: return "AMD";
    case 0x8086: return "Intel";
    case 0x5143: return "Qualcomm";
    case 0x13B5: return "ARM";
    case 0x106B: return "Apple";
    case 0x14E4: return "Broadcom";
    case 0x1010: return "ImgTec";
    case 0x10005: return "Mesa";
    default: return fmt::format("0x{:04x}", id);
  }
}

std::string type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

std::string version_str(uint32_t v) {
  return fmt::format("{}.{}.{}", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

// Vendors encode driverVersion differently; NVIDIA uses 10.8.8.6 bits.
std::string driver_version_str(uint32_t vendor, uint32_t v) {
  if (vendor == 0x10DE)
    return fmt::format("{}.{}.{}.{}", (v >> 22) & 0x3ff, (v >> 14) & 0xff, (v >> 6) & 0xff, v & 0x3f);
  return version_str(v);
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

std::string component_name(VkComponentTypeKHR t) {
  switch (t) {
    case VK_COMPONENT_TYPE_FLOAT16_KHR: return "f16";
    case VK_COMPONENT_TYPE_FLOAT32_KHR: return "f32";
    case VK_COMPONENT_TYPE_FLOAT64_KHR: return "f64";
    case VK_COMPONENT_TYPE_SINT8_KHR: return "s8";
    case VK_COMPONENT_TYPE_SINT16_KHR: return "s16";
    case VK_COMPONENT_TYPE_SINT32_KHR: return "s32";
    case VK_COMPONENT_TYPE_SINT64_KHR: return "s64";
    case VK_COMPONENT_TYPE_UINT8_KHR: return "u8";
    case VK_COMPONENT_TYPE_UINT16_KHR: return "u16";
    case VK_COMPONENT_TYPE_UINT32_KHR: return "u32";
    case VK_COMPONENT_TYPE_UINT64_KHR: return "u64";
    default: break;
  }
  // Newer component types than these headers name (VK_KHR_shader_bfloat16, VK_EXT_shader_float8).
  switch (static_cast<int>(t)) {
    case 1000141000: return "bf16";
    case 1000491002: return "e4m3";
    case 1000491003: return "e5m2";
    default: return fmt::format("type{}", static_cast<int>(t));
  }
}

std::string scope_name(VkScopeKHR s) {
  switch (s) {
    case VK_SCOPE_DEVICE_KHR: return "device";
    case VK_SCOPE_WORKGROUP_KHR: return "workgroup";
    case VK_SCOPE_SUBGROUP_KHR: return "subgroup";
    case VK_SCOPE_QUEUE_FAMILY_KHR: return "queue_family";
    default: return "unknown";
  }
}

}  // namespace

uint64_t DeviceCaps::device_local_bytes() const {
  uint64_t s = 0;
  for (const auto& h : heaps)
    if (h.device_local) s += h.size;
  return s;
}

DeviceCaps read_device_caps(const vk::raii::PhysicalDevice& pd, uint32_t index) {
  const auto& d = *pd.getDispatcher();
  VkPhysicalDevice h = static_cast<VkPhysicalDevice>(*pd);
  DeviceCaps c;
  c.index = index;

  // Extensions decide which structures may be chained below.
  std::vector<std::string> exts;
  for (const auto& e : pd.enumerateDeviceExtensionProperties()) exts.emplace_back(e.extensionName.data());
  auto has_ext = [&](const char* n) { return std::find(exts.begin(), exts.end(), n) != exts.end(); };

  VkPhysicalDeviceProperties base{};
  d.vkGetPhysicalDeviceProperties(h, &base);
  // vkq creates its instance for Vulkan 1.3: the usable version is the lower one.
  const uint32_t api = std::min<uint32_t>(base.apiVersion, VK_API_VERSION_1_3);
  const bool v13 = api >= VK_API_VERSION_1_3;

  // --- Properties ------------------------------------------------------------
  VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  VkPhysicalDeviceVulkan11Properties p11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES};
  VkPhysicalDeviceVulkan12Properties p12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES};
  VkPhysicalDeviceVulkan13Properties p13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES};
  VkPhysicalDeviceSubgroupSizeControlProperties pssc{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
  VkPhysicalDeviceShaderIntegerDotProductProperties pidp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties pm3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  void** next = &p2.pNext;
  auto chain = [&next](auto& s) { *next = &s; next = &s.pNext; };
  chain(p11);
  chain(p12);
  chain(pm3);
  if (v13) {
    chain(p13);
  } else {
    if (has_ext(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME)) chain(pssc);
    if (has_ext(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME)) chain(pidp);
  }
  d.vkGetPhysicalDeviceProperties2(h, &p2);
  const auto& pr = p2.properties;

  c.name = pr.deviceName;
  c.vendor_id = pr.vendorID;
  c.device_id = pr.deviceID;
  c.vendor = vendor_name(pr.vendorID);
  c.device_type = type_name(pr.deviceType);
  c.api_version = pr.apiVersion;
  c.driver_version = pr.driverVersion;
  c.api_version_str = version_str(pr.apiVersion);
  c.driver_version_str = driver_version_str(pr.vendorID, pr.driverVersion);
  c.driver_name = p12.driverName;
  c.driver_info = p12.driverInfo;
  c.device_uuid = hex(p11.deviceUUID, VK_UUID_SIZE);
  c.driver_uuid = hex(p11.driverUUID, VK_UUID_SIZE);

  c.subgroup_size = p11.subgroupSize;
  c.subgroup_in_compute = (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  const auto ops = c.subgroup_in_compute ? p11.subgroupSupportedOperations : 0u;
  c.subgroup_basic = ops & VK_SUBGROUP_FEATURE_BASIC_BIT;
  c.subgroup_vote = ops & VK_SUBGROUP_FEATURE_VOTE_BIT;
  c.subgroup_arith = ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
  c.subgroup_ballot = ops & VK_SUBGROUP_FEATURE_BALLOT_BIT;
  c.subgroup_shuffle = ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  c.subgroup_clustered = ops & VK_SUBGROUP_FEATURE_CLUSTERED_BIT;
  c.min_subgroup_size = c.max_subgroup_size = p11.subgroupSize;

  const auto& lim = pr.limits;
  c.max_shared_memory = lim.maxComputeSharedMemorySize;
  c.max_workgroup_invocations = lim.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    c.max_workgroup_size[i] = lim.maxComputeWorkGroupSize[i];
    c.max_workgroup_count[i] = lim.maxComputeWorkGroupCount[i];
  }
  c.max_storage_buffer_range = lim.maxStorageBufferRange;
  c.max_memory_allocation_size = pm3.maxMemoryAllocationSize;
  c.max_push_constants_size = lim.maxPushConstantsSize;
  c.min_storage_buffer_offset_alignment = lim.minStorageBufferOffsetAlignment;
  c.timestamp_period_ns = lim.timestampPeriod;

  // --- Features ----------------------------------------------------------------
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  VkPhysicalDeviceSubgroupSizeControlFeatures fssc{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES};
  VkPhysicalDeviceShaderIntegerDotProductFeatures fidp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR fcm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
  next = &f2.pNext;
  chain(f11);
  chain(f12);
  const bool ext_ssc = !v13 && has_ext(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  const bool ext_idp = !v13 && has_ext(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  const bool ext_cm = has_ext(VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
  if (v13) chain(f13);
  if (ext_ssc) chain(fssc);
  if (ext_idp) chain(fidp);
  if (ext_cm) chain(fcm);
  d.vkGetPhysicalDeviceFeatures2(h, &f2);

  c.fp16 = f12.shaderFloat16;
  c.int8 = f12.shaderInt8;
  c.int16 = f2.features.shaderInt16;
  c.int64 = f2.features.shaderInt64;
  c.int64_atomics = c.int64 && f12.shaderBufferInt64Atomics;
  c.storage8 = f12.storageBuffer8BitAccess;
  c.storage16 = f11.storageBuffer16BitAccess;
  if (v13) {
    c.subgroup_size_control = f13.subgroupSizeControl &&
                              (p13.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT);
    c.min_subgroup_size = p13.minSubgroupSize;
    c.max_subgroup_size = p13.maxSubgroupSize;
    c.int_dot = f13.shaderIntegerDotProduct;
    c.int_dot_4x8_accel = c.int_dot && (p13.integerDotProduct4x8BitPackedSignedAccelerated ||
                                         p13.integerDotProduct4x8BitPackedMixedSignednessAccelerated);
  } else {
    if (ext_ssc) {
      c.subgroup_size_control = fssc.subgroupSizeControl &&
                                (pssc.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT);
      c.min_subgroup_size = pssc.minSubgroupSize;
      c.max_subgroup_size = pssc.maxSubgroupSize;
    }
    if (ext_idp) {
      c.int_dot = fidp.shaderIntegerDotProduct;
      c.int_dot_4x8_accel = c.int_dot && (pidp.integerDotProduct4x8BitPackedSignedAccelerated ||
                                           pidp.integerDotProduct4x8BitPackedMixedSignednessAccelerated);
    }
  }
  c.coopmat = ext_cm && fcm.cooperativeMatrix && d.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR;
  if (c.coopmat) {
    uint32_t n = 0;
    d.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(h, &n, nullptr);
    std::vector<VkCooperativeMatrixPropertiesKHR> props(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR});
    d.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(h, &n, props.data());
    props.resize(n);
    for (const auto& p : props)
      c.coopmat_shapes.push_back({p.MSize, p.NSize, p.KSize, component_name(p.AType), component_name(p.BType),
                                  component_name(p.CType), component_name(p.ResultType), scope_name(p.scope)});
  }
  c.coopmat2_nv = has_ext(VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME);
  if (c.coopmat && c.coopmat2_nv && d.vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV) {
    VkPhysicalDeviceFeatures2 q{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDeviceCooperativeMatrix2FeaturesNV f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV};
    q.pNext = &f;
    d.vkGetPhysicalDeviceFeatures2(h, &q);
    VkPhysicalDeviceProperties2 pq{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    VkPhysicalDeviceCooperativeMatrix2PropertiesNV p{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_PROPERTIES_NV};
    pq.pNext = &p;
    d.vkGetPhysicalDeviceProperties2(h, &pq);
    c.coopmat2 = f.cooperativeMatrixWorkgroupScope && f.cooperativeMatrixFlexibleDimensions &&
                 f.cooperativeMatrixTensorAddressing && f.cooperativeMatrixBlockLoads && f12.bufferDeviceAddress &&
                 f12.vulkanMemoryModel;
    c.coopmat2_max_workgroup = p.cooperativeMatrixWorkgroupScopeMaxWorkgroupSize;
    c.coopmat2_reserved_shared = p.cooperativeMatrixWorkgroupScopeReservedSharedMemory;
    uint32_t n = 0;
    d.vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV(h, &n, nullptr);
    std::vector<VkCooperativeMatrixFlexibleDimensionsPropertiesNV> props(
        n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_FLEXIBLE_DIMENSIONS_PROPERTIES_NV});
    d.vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV(h, &n, props.data());
    props.resize(n);
    for (const auto& s : props)
      c.coopmat2_shapes.push_back({s.MGranularity, s.NGranularity, s.KGranularity, component_name(s.AType),
                                   component_name(s.BType), component_name(s.CType), component_name(s.ResultType),
                                   scope_name(s.scope), s.workgroupInvocations});
  }
  c.memory_budget_ext = has_ext(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  c.pipeline_stats_ext = has_ext(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);

  // --- Queue: timestamps on the compute queue ----------------------------------
  for (const auto& q : pd.getQueueFamilyProperties()) {
    if (q.queueFlags & vk::QueueFlagBits::eCompute) {
      c.timestamps = q.timestampValidBits > 0 && lim.timestampPeriod > 0;
      break;
    }
  }

  // --- Memory heaps (and budget where the extension exists) --------------------
  VkPhysicalDeviceMemoryProperties2 m2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  VkPhysicalDeviceMemoryBudgetPropertiesEXT mb{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  if (c.memory_budget_ext) m2.pNext = &mb;
  d.vkGetPhysicalDeviceMemoryProperties2(h, &m2);
  for (uint32_t i = 0; i < m2.memoryProperties.memoryHeapCount; ++i) {
    const auto& hp = m2.memoryProperties.memoryHeaps[i];
    MemoryHeapInfo hi;
    hi.size = hp.size;
    hi.device_local = hp.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
    if (c.memory_budget_ext) {
      hi.budget = mb.heapBudget[i];
      hi.usage = mb.heapUsage[i];
    }
    c.heaps.push_back(hi);
  }
  return c;
}

bool has_coopmat_shape(const DeviceCaps& c, uint32_t m, uint32_t n, uint32_t k, const std::string& ab_type,
                       const std::string& acc_type) {
  if (!c.coopmat) return false;
  return std::any_of(c.coopmat_shapes.begin(), c.coopmat_shapes.end(), [&](const CoopMatShape& s) {
    return s.m == m && s.n == n && s.k == k && s.a_type == ab_type && s.b_type == ab_type && s.c_type == acc_type &&
           s.result_type == acc_type && s.scope == "subgroup";
  });
}

std::vector<CoopMatShape> coopmat2_workgroup_shapes(const DeviceCaps& c, const std::string& ab_type,
                                                    const std::string& acc_type) {
  std::vector<CoopMatShape> out;
  // The driver reserves shared memory for its staging: none left under a
  // profile's smaller limit.
  if (!c.coopmat2 || !c.coopmat || c.coopmat2_reserved_shared > c.max_shared_memory) return out;
  for (const auto& s : c.coopmat2_shapes)
    if (s.scope == "workgroup" && s.a_type == ab_type && s.b_type == ab_type && s.c_type == acc_type &&
        s.result_type == acc_type && s.m && s.n && s.k && s.invocations &&
        s.invocations <= c.max_workgroup_invocations &&
        (c.coopmat2_max_workgroup == 0 || s.invocations <= c.coopmat2_max_workgroup))
      out.push_back(s);
  return out;
}

const std::vector<std::string>& known_features() {
  static const std::vector<std::string> k = {"subgroup_basic", "subgroup_arith", "fp16",          "int8_storage",
                                             "int16_storage",  "storage16",      "int_dot",       "int_dot_accel",
                                             "coopmat",        "coopmat_f16_16", "coopmat2_f16",  "int64_atomics"};
  return k;
}

bool caps_have_feature(const DeviceCaps& c, const std::string& f) {
  if (f == "subgroup_basic") return c.subgroup_basic;
  if (f == "subgroup_arith") return c.subgroup_basic && c.subgroup_arith;
  if (f == "fp16") return c.fp16;
  if (f == "int8_storage") return c.storage8 && c.int8;
  if (f == "int16_storage") return c.storage16 && c.int16;
  if (f == "storage16") return c.storage16;
  if (f == "int_dot") return c.int_dot;
  if (f == "int_dot_accel") return c.int_dot && c.int_dot_4x8_accel;
  if (f == "coopmat") return c.coopmat;
  if (f == "coopmat_f16_16") return has_coopmat_shape(c, 16, 16, 16, "f16", "f32");
  if (f == "coopmat2_f16") return !coopmat2_workgroup_shapes(c, "f16", "f32").empty();
  if (f == "int64_atomics") return c.int64_atomics;
  throw InputError(fmt::format("unknown device feature '{}' (known: {})", f, fmt::join(known_features(), ", ")));
}

std::string format_bytes(uint64_t b) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", b);
  return fmt::format("{:.{}f} {}", v, v < 10 ? 2 : (v < 100 ? 1 : 0), unit[u]);
}

nlohmann::json to_json(const DeviceCaps& c) {
  using nlohmann::json;
  json shapes = json::array();
  for (const auto& s : c.coopmat_shapes)
    shapes.push_back({{"m", s.m}, {"n", s.n}, {"k", s.k}, {"a", s.a_type}, {"b", s.b_type}, {"c", s.c_type},
                      {"result", s.result_type}, {"scope", s.scope}});
  json shapes2 = json::array();
  for (const auto& s : c.coopmat2_shapes)
    shapes2.push_back({{"m_granularity", s.m}, {"n_granularity", s.n}, {"k_granularity", s.k}, {"a", s.a_type},
                       {"b", s.b_type}, {"c", s.c_type}, {"result", s.result_type}, {"scope", s.scope},
                       {"workgroup_invocations", s.invocations}});
  json heaps = json::array();
  for (const auto& h : c.heaps)
    heaps.push_back({{"size", h.size}, {"device_local", h.device_local}, {"budget", h.budget}, {"usage", h.usage}});
  return json{
      {"index", c.index},
      {"name", c.name},
      {"vendor", c.vendor},
      {"vendor_id", c.vendor_id},
      {"device_id", c.device_id},
      {"device_type", c.device_type},
      {"api_version", c.api_version_str},
      {"driver_version", c.driver_version_str},
      {"driver_version_raw", c.driver_version},
      {"driver_name", c.driver_name},
      {"driver_info", c.driver_info},
      {"device_uuid", c.device_uuid},
      {"driver_uuid", c.driver_uuid},
      {"profile", c.profile},
      {"subgroup",
       {{"size", c.subgroup_size},
        {"min_size", c.min_subgroup_size},
        {"max_size", c.max_subgroup_size},
        {"size_control", c.subgroup_size_control},
        {"forced_size", c.forced_subgroup_size},
        {"in_compute", c.subgroup_in_compute},
        {"basic", c.subgroup_basic},
        {"vote", c.subgroup_vote},
        {"arithmetic", c.subgroup_arith},
        {"ballot", c.subgroup_ballot},
        {"shuffle", c.subgroup_shuffle},
        {"clustered", c.subgroup_clustered}}},
      {"fp16", c.fp16},
      {"int8", c.int8},
      {"int16", c.int16},
      {"int64", c.int64},
      {"int64_atomics", c.int64_atomics},
      {"storage8", c.storage8},
      {"storage16", c.storage16},
      {"int_dot", c.int_dot},
      {"int_dot_4x8_accelerated", c.int_dot_4x8_accel},
      {"cooperative_matrix", c.coopmat},
      {"cooperative_matrix_shapes", shapes},
      {"nv_cooperative_matrix2", c.coopmat2_nv},
      {"nv_cooperative_matrix2_usable", c.coopmat2},
      {"nv_cooperative_matrix2_max_workgroup", c.coopmat2_max_workgroup},
      {"nv_cooperative_matrix2_reserved_shared", c.coopmat2_reserved_shared},
      {"nv_cooperative_matrix2_shapes", shapes2},
      {"memory_budget_ext", c.memory_budget_ext},
      {"pipeline_executable_properties", c.pipeline_stats_ext},
      {"timestamps", c.timestamps},
      {"timestamp_period_ns", c.timestamp_period_ns},
      {"max_shared_memory", c.max_shared_memory},
      {"max_workgroup_invocations", c.max_workgroup_invocations},
      {"max_workgroup_size", c.max_workgroup_size},
      {"max_workgroup_count", c.max_workgroup_count},
      {"max_storage_buffer_range", c.max_storage_buffer_range},
      {"max_memory_allocation_size", c.max_memory_allocation_size},
      {"max_push_constants_size", c.max_push_constants_size},
      {"heaps", heaps},
      {"device_local_bytes", c.device_local_bytes()},
  };
}

}  // namespace vkq
