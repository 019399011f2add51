#include "instance.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {

constexpr const char* kNoVulkanHint =
    "install a Vulkan loader and driver: on Debian, apt-get install libvulkan1 mesa-vulkan-drivers "
    "(lavapipe, a Vulkan device on the CPU), or your GPU vendor's driver";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void* open_loader(const std::string& name) {
  const std::string lib = name.empty() ? "libvulkan.so.1" : name;
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h && name.empty()) h = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* err = dlerror();
    throw DeviceError(fmt::format("no Vulkan loader: could not open {} ({})", lib, err ? err : "not found"), kNoVulkanHint);
  }
  return h;
}

PFN_vkGetInstanceProcAddr loader_entry(void* lib) {
  auto f = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
  if (!f) throw DeviceError("the Vulkan loader has no vkGetInstanceProcAddr", kNoVulkanHint);
  return f;
}

VKAPI_ATTR vk::Bool32 VKAPI_CALL on_debug_message(vk::DebugUtilsMessageSeverityFlagBitsEXT severity,
                                                  vk::DebugUtilsMessageTypeFlagsEXT /*types*/,
                                                  const vk::DebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* msgs = static_cast<Instance::Messages*>(user);
  const char* sev = severity == vk::DebugUtilsMessageSeverityFlagBitsEXT::eError ? "error" : "warning";
  std::string text = fmt::format("validation {}: [{}] {}", sev, data->pMessageIdName ? data->pMessageIdName : "",
                                 data->pMessage ? data->pMessage : "");
  std::fprintf(stderr, "vkq: %s\n", text.c_str());
  std::lock_guard<std::mutex> lock(msgs->mu);
  msgs->list.push_back(std::move(text));
  return VK_FALSE;
}

int type_rank(const std::string& t) {
  if (t == "discrete") return 0;
  if (t == "integrated") return 1;
  if (t == "virtual") return 2;
  if (t == "other") return 3;
  return 4;  // cpu last
}

}  // namespace

Log Log::from_env() {
  const std::string v = lower(env("VKQ_LOG"));
  if (v == "debug") return Log(Level::debug);
  if (v == "info") return Log(Level::info);
  if (v == "quiet") return Log(Level::quiet);
  return Log(Level::warn);
}

InstanceOptions InstanceOptions::from_env() {
  InstanceOptions o;
  const std::string v = lower(env("VKQ_VALIDATION"));
  o.validation = !v.empty() && v != "0" && v != "off" && v != "false";
  o.sync_validation = v == "sync";
  o.log = Log::from_env();
  o.loader = env("VKQ_VULKAN_LIBRARY");
  return o;
}

void Instance::LibraryCloser::operator()(void* handle) const {
  if (handle) dlclose(handle);
}

Instance::Instance(InstanceOptions options)
    : options_(options),
      library_(open_loader(options.loader)),
      context_(loader_entry(library_.get())),
      messages_(std::make_unique<Messages>()) {
  vk::ApplicationInfo app{};
  app.pApplicationName = "vkq";
  app.applicationVersion = 1;
  app.pEngineName = "vkq";
  app.apiVersion = VK_API_VERSION_1_3;

  std::vector<const char*> layers, exts;
  const auto avail_layers = context_.enumerateInstanceLayerProperties();
  const auto avail_exts = context_.enumerateInstanceExtensionProperties();
  auto has_ext = [&](const char* n) {
    return std::any_of(avail_exts.begin(), avail_exts.end(), [&](const auto& e) { return std::strcmp(e.extensionName, n) == 0; });
  };
  if (options_.validation) {
    const bool have = std::any_of(avail_layers.begin(), avail_layers.end(), [](const auto& l) {
      return std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
    });
    if (!have)
      throw DeviceError("validation requested (VKQ_VALIDATION) but VK_LAYER_KHRONOS_validation is not installed",
                        "apt-get install vulkan-validationlayers, or unset VKQ_VALIDATION");
    layers.push_back("VK_LAYER_KHRONOS_validation");
    exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  // Portability drivers (MoltenVK) are only listed when asked for.
  vk::InstanceCreateFlags flags{};
  if (has_ext(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
    exts.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
    flags |= vk::InstanceCreateFlagBits::eEnumeratePortabilityKHR;
  }

  vk::DebugUtilsMessengerCreateInfoEXT dbg{};
  dbg.messageSeverity = vk::DebugUtilsMessageSeverityFlagBitsEXT::eWarning | vk::DebugUtilsMessageSeverityFlagBitsEXT::eError;
  dbg.messageType = vk::DebugUtilsMessageTypeFlagBitsEXT::eGeneral | vk::DebugUtilsMessageTypeFlagBitsEXT::eValidation |
                    vk::DebugUtilsMessageTypeFlagBitsEXT::ePerformance;
  dbg.pfnUserCallback = &on_debug_message;
  dbg.pUserData = messages_.get();

  vk::ValidationFeatureEnableEXT sync_enable = vk::ValidationFeatureEnableEXT::eSynchronizationValidation;
  vk::ValidationFeaturesEXT vfeat{};
  vfeat.enabledValidationFeatureCount = 1;
  vfeat.pEnabledValidationFeatures = &sync_enable;

  vk::InstanceCreateInfo ci{};
  ci.flags = flags;
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  if (options_.validation) {
    ci.pNext = &dbg;  // messages during vkCreateInstance too
    if (options_.sync_validation) dbg.pNext = &vfeat;
  }
  try {
    instance_ = vk::raii::Instance(context_, ci);
  } catch (const vk::IncompatibleDriverError&) {
    throw DeviceError("no Vulkan device: the loader found no driver (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)",
                      kNoVulkanHint);
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("vkCreateInstance failed: {}", e.what()), kNoVulkanHint);
  }
  if (options_.validation) {
    dbg.pNext = nullptr;  // the validation features belong to vkCreateInstance's chain only
    messenger_ = vk::raii::DebugUtilsMessengerEXT(instance_, dbg);
  }

  try {
    physical_ = instance_.enumeratePhysicalDevices();
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("vkEnumeratePhysicalDevices failed: {}", e.what()), kNoVulkanHint);
  }
  for (uint32_t i = 0; i < physical_.size(); ++i) {
    PhysicalDeviceEntry e{read_device_caps(physical_[i], i), ""};
    if (VK_API_VERSION_MINOR(e.caps.api_version) < 2 && VK_API_VERSION_MAJOR(e.caps.api_version) == 1)
      e.rejected = fmt::format("Vulkan {} device; vkq needs Vulkan 1.2", e.caps.api_version_str);
    else if (e.caps.max_storage_buffer_range < (1u << 20))
      e.rejected = "maxStorageBufferRange below 1 MiB";
    devices_.push_back(std::move(e));
  }
  for (const auto& d : devices_)
    if (!d.rejected.empty()) options_.log.info(fmt::format("device {} '{}' rejected: {}", d.caps.index, d.caps.name, d.rejected));
}

Instance::~Instance() {
  // Vulkan objects must go before the loader library is closed.
  physical_.clear();
  messenger_.clear();
  instance_.clear();
}

const vk::raii::PhysicalDevice& Instance::physical_device(uint32_t index) const {
  if (index >= physical_.size()) throw InputError(fmt::format("no device with index {}", index));
  return physical_[index];
}

std::string Instance::describe_devices() const {
  if (devices_.empty()) return "(no Vulkan devices)";
  std::string s;
  for (const auto& d : devices_) {
    s += fmt::format("{}{}: {} ({}{}{})", s.empty() ? "" : "; ", d.caps.index, d.caps.name, d.caps.device_type,
                     d.rejected.empty() ? "" : ", rejected: ", d.rejected);
  }
  return s + "; or 'cpu' for the CPU reference";
}

uint32_t Instance::select(const std::string& spec_in) const {
  std::string spec = spec_in.empty() ? env("VKQ_DEVICE") : spec_in;
  if (devices_.empty())
    throw DeviceError("no Vulkan device found", kNoVulkanHint);
  auto usable = [&](const PhysicalDeviceEntry& d) -> uint32_t {
    if (!d.rejected.empty())
      throw InputError(fmt::format("device {} '{}' cannot be used: {}", d.caps.index, d.caps.name, d.rejected),
                       "devices: " + describe_devices());
    return d.caps.index;
  };
  if (spec.empty()) {
    const PhysicalDeviceEntry* best = nullptr;
    for (const auto& d : devices_)
      if (d.rejected.empty() && (!best || type_rank(d.caps.device_type) < type_rank(best->caps.device_type))) best = &d;
    if (!best) throw DeviceError("no usable Vulkan device: " + describe_devices(), kNoVulkanHint);
    return best->caps.index;
  }
  const bool numeric = std::all_of(spec.begin(), spec.end(), [](unsigned char c) { return std::isdigit(c); });
  if (numeric && spec.size() < 6) {
    const auto idx = static_cast<uint32_t>(std::stoul(spec));
    if (idx < devices_.size()) return usable(devices_[idx]);
  } else {
    for (const auto& d : devices_)
      if (lower(d.caps.name).find(lower(spec)) != std::string::npos) return usable(d);
  }
  throw InputError(fmt::format("--device '{}' matches no device", spec), "devices: " + describe_devices());
}

size_t Instance::validation_message_count() const {
  std::lock_guard<std::mutex> lock(messages_->mu);
  return messages_->list.size();
}

std::vector<std::string> Instance::validation_messages() const {
  std::lock_guard<std::mutex> lock(messages_->mu);
  return messages_->list;
}

void Instance::clear_validation_messages() {
  std::lock_guard<std::mutex> lock(messages_->mu);
  messages_->list.clear();
}

}  // namespace vkq
