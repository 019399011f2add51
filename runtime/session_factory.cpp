#include "session_factory.hpp"

#include <cstdlib>

#include "cpu_forward.hpp"
#include "device.hpp"
#include "instance.hpp"

namespace vkq {
namespace {

// A Vulkan forward pass with the instance and device it runs on, destroyed
// in the right order (session, device, instance).
class OwningVulkanSession final : public LlamaSession {
 public:
  OwningVulkanSession(const std::string& spec, const LlamaModel& model, VulkanForwardOptions opts)
      : instance_(std::make_unique<Instance>()),
        device_(open_device(*instance_, spec)),
        forward_(std::make_unique<VulkanForward>(*device_, model, opts)) {}
  ~OwningVulkanSession() override {
    forward_.reset();
    device_.reset();
  }
  uint32_t n_ctx() const override { return forward_->n_ctx(); }
  uint32_t n_vocab() const override { return forward_->n_vocab(); }
  std::string device_name() const override { return forward_->device_name(); }
  std::vector<float> decode(int32_t token, uint32_t pos) override { return forward_->decode(token, pos); }
  std::vector<float> prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool all_logits) override {
    return forward_->prefill(tokens, start_pos, all_logits);
  }
  Device* device() const { return device_.get(); }
  VulkanForward* forward() const { return forward_.get(); }

 private:
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<VulkanForward> forward_;
};

}  // namespace

OpenedSession open_llama_session(const std::string& device, const LlamaModel& model, uint32_t n_ctx,
                                 VulkanForwardOptions vk_opts) {
  OpenedSession out;
  const char* env = std::getenv("VKQ_DEVICE");
  const std::string spec = device.empty() && env ? std::string(env) : device;
  if (spec == "cpu") {
    out.session = std::make_unique<CpuForward>(model, n_ctx);
    return out;
  }
  vk_opts.n_ctx = n_ctx;
  auto s = std::make_unique<OwningVulkanSession>(spec, model, vk_opts);
  out.device = s->device();
  out.vulkan = s->forward();
  out.session = std::move(s);
  return out;
}

}  // namespace vkq
