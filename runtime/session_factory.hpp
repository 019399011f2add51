// Opens a llama session on the device a user names: "cpu" for the CPU
// reference forward pass, anything else a Vulkan device (an index, a name
// substring; Instance::select says which exist); "" is VKQ_DEVICE, then the
// best Vulkan device. The Vulkan session owns its
// instance and device. Used by `vkq run`, `vkq perplexity`, the quantizer's
// calibration and the scorecard.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "llama_model.hpp"
#include "llama_session.hpp"
#include "vulkan_forward.hpp"

namespace vkq {

class Device;
class Instance;

// A session with what it runs on, for reports.
struct OpenedSession {
  std::unique_ptr<LlamaSession> session;
  Device* device = nullptr;  // null for "cpu"
  VulkanForward* vulkan = nullptr;  // null for "cpu"
};

// `model` must outlive the session (the CPU reference reads its map).
OpenedSession open_llama_session(const std::string& device, const LlamaModel& model, uint32_t n_ctx,
                                 VulkanForwardOptions vk_opts = {});

}  // namespace vkq
