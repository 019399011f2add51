#include "command_stream.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>
#include <string>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {
constexpr uint32_t kSetsPerPool = 256;
constexpr uint32_t kMaxBindingsPerSet = 16;
}  // namespace

CommandStream::CommandStream(Device& device, uint32_t max_timestamps, bool reusable)
    : device_(device), reusable_(reusable), max_timestamps_(max_timestamps) {
  vk::CommandBufferAllocateInfo ai{};
  ai.commandPool = *device.command_pool();
  ai.level = vk::CommandBufferLevel::ePrimary;
  ai.commandBufferCount = 1;
  cb_ = std::move(vk::raii::CommandBuffers(device.vk(), ai)[0]);
  fence_ = vk::raii::Fence(device.vk(), vk::FenceCreateInfo{});
  if (device.caps().timestamps && max_timestamps_ > 0) {
    vk::QueryPoolCreateInfo qi{};
    qi.queryType = vk::QueryType::eTimestamp;
    qi.queryCount = max_timestamps_;
    queries_ = vk::raii::QueryPool(device.vk(), qi);
  }
}

CommandStream::~CommandStream() {
  if (recording_) {
    try {
      cb_.end();
    } catch (...) {
    }
  }
}

void CommandStream::begin_if_needed() {
  if (recording_) return;
  if (recorded_) throw InputError("command stream: a reusable stream was already recorded; reset() it first");
  cb_.reset();
  vk::CommandBufferBeginInfo bi{};
  if (!reusable_) bi.flags = vk::CommandBufferUsageFlagBits::eOneTimeSubmit;
  cb_.begin(bi);
  recording_ = true;
  labels_.clear();
  dispatches_ = 0;
  since_barrier_ = pending_src_ = 0;
  commands_ = point_ = next_flag_ = elided_ = 0;
  chain_ = nullptr;
  last_link_ = -1;
  if (*queries_) {
    cb_.resetQueryPool(*queries_, 0, max_timestamps_);
    labels_.push_back("start");
    cb_.writeTimestamp(vk::PipelineStageFlagBits::eTopOfPipe, *queries_, 0);
  }
}

vk::DescriptorSet CommandStream::allocate_set(const Kernel& k) {
  if (pools_.empty() || sets_in_last_pool_ == kSetsPerPool) {
    vk::DescriptorPoolSize size{vk::DescriptorType::eStorageBuffer, kSetsPerPool * kMaxBindingsPerSet};
    vk::DescriptorPoolCreateInfo pi{};
    pi.maxSets = kSetsPerPool;
    pi.poolSizeCount = 1;
    pi.pPoolSizes = &size;
    pools_.emplace_back(device_.vk(), pi);
    sets_in_last_pool_ = 0;
  }
  vk::DescriptorSetLayout layout = *k.set_layout();
  vk::DescriptorSetAllocateInfo ai{};
  ai.descriptorPool = *pools_.back();
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &layout;
  vk::DescriptorSet set;
  const auto r = (*device_.vk()).allocateDescriptorSets(&ai, &set, *device_.vk().getDispatcher());
  if (r != vk::Result::eSuccess)
    throw DeviceError(fmt::format("device '{}': vkAllocateDescriptorSets failed: {}", device_.caps().name, vk::to_string(r)));
  ++sets_in_last_pool_;
  return set;
}

void CommandStream::dispatch(const Kernel& k, std::initializer_list<Binding> bindings, const void* pc, uint32_t pc_bytes,
                             std::array<uint32_t, 3> groups) {
  dispatch_with(k, std::vector<Binding>(bindings), pc, pc_bytes, groups);
}

void CommandStream::dispatch_with(const Kernel& k, const std::vector<Binding>& bindings, const void* pc,
                                  uint32_t pc_bytes, std::array<uint32_t, 3> groups) {
  if (bindings.size() != k.binding_count())
    throw InputError(fmt::format("kernel '{}' takes {} buffers, got {}", k.name(), k.binding_count(), bindings.size()));
  if (pc_bytes != k.push_constant_size())
    throw InputError(fmt::format("kernel '{}' takes {} bytes of push constants, got {}", k.name(), k.push_constant_size(), pc_bytes));
  if (bindings.size() > kMaxBindingsPerSet) throw InputError(fmt::format("kernel '{}': too many bindings", k.name()));
  const auto& caps = device_.caps();
  for (int i = 0; i < 3; ++i)
    if (groups[i] == 0 || groups[i] > caps.max_workgroup_count[i])
      throw InputError(fmt::format("kernel '{}': {} workgroups in dimension {} (limit {})", k.name(), groups[i], i,
                                   caps.max_workgroup_count[i]));
  begin_if_needed();
  const auto set = allocate_set(k);
  std::vector<vk::DescriptorBufferInfo> infos;
  std::vector<vk::WriteDescriptorSet> writes;
  infos.reserve(bindings.size());
  uint32_t i = 0;
  for (const auto& b : bindings) {
    const uint64_t range = b.range == VK_WHOLE_SIZE ? b.buffer->size() - b.offset : b.range;
    if (range > caps.max_storage_buffer_range)
      throw InputError(fmt::format("kernel '{}': binding {} spans {} bytes, above maxStorageBufferRange {} of '{}'",
                                   k.name(), i, range, caps.max_storage_buffer_range, caps.name));
    infos.push_back(vk::DescriptorBufferInfo{b.buffer->handle(), b.offset, range});
    vk::WriteDescriptorSet w{};
    w.dstSet = set;
    w.dstBinding = i++;
    w.descriptorCount = 1;
    w.descriptorType = vk::DescriptorType::eStorageBuffer;
    w.pBufferInfo = &infos.back();
    writes.push_back(w);
  }
  device_.vk().updateDescriptorSets(writes, {});
  sync_before(kComputeStage);
  cb_.bindPipeline(vk::PipelineBindPoint::eCompute, *k.pipeline());
  cb_.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *k.layout(), 0, set, {});
  if (pc_bytes) cb_.pushConstants<uint8_t>(*k.layout(), vk::ShaderStageFlagBits::eCompute, 0,
                                          vk::ArrayProxy<const uint8_t>(pc_bytes, static_cast<const uint8_t*>(pc)));
  cb_.dispatch(groups[0], groups[1], groups[2]);
  ++dispatches_;
  ++commands_;
}

void CommandStream::begin_chain(const Buffer& flags) {
  begin_if_needed();
  sync_before(kTransferStage);
  cb_.fillBuffer(flags.handle(), 0, VK_WHOLE_SIZE, 0);
  ++commands_;
  barrier();
  chain_ = &flags;
  next_flag_ = candidates_ = 0;
  last_link_ = -1;
  elide_from_ = 0;
  elide_to_ = UINT32_MAX;
  keep_barriers_ = std::getenv("VKQ_CHAIN_KEEP_BARRIERS") != nullptr;
  if (const char* e = std::getenv("VKQ_CHAIN_ELIDE"); e && *e) {
    // B or A-B: link numbers, digits only (no sign: "-3" or "2--5" would
    // otherwise wrap to huge numbers), A <= B.
    const std::string_view v(e);
    auto number = [&](std::string_view t, uint32_t& out) {
      const auto r = std::from_chars(t.data(), t.data() + t.size(), out);
      return !t.empty() && t.front() != '-' && r.ec == std::errc() && r.ptr == t.data() + t.size();
    };
    const auto dash = v.find('-');
    const bool ok = dash == std::string_view::npos
                        ? number(v, elide_to_)
                        : number(v.substr(0, dash), elide_from_) && number(v.substr(dash + 1), elide_to_) &&
                              elide_from_ <= elide_to_;
    if (!ok) throw InputError(fmt::format("VKQ_CHAIN_ELIDE='{}': expected B or A-B (link numbers, A <= B)", v));
  }
}

ChainLink CommandStream::link(uint32_t workgroups) {
  if (!chain_) throw InputError("command stream: link() outside a chain (begin_chain first)");
  if (next_flag_ >= chain_->size() / kChainFlagBytes)
    throw InputError(
        fmt::format("command stream: more than {} linked dispatches in one chain", chain_->size() / kChainFlagBytes));
  ChainLink l;
  l.signal_flag = next_flag_++;
  const bool can = pending_src_ == kComputeStage && last_link_ >= 0 && uint64_t(last_link_) + 1 == commands_ &&
                   point_ + 1 == commands_;
  const uint32_t n = can ? candidates_++ : 0;
  if (can && n >= elide_from_ && n < elide_to_) {
    l.wait_flag = last_flag_;
    l.wait_count = last_groups_;
    if (!keep_barriers_) {
      pending_src_ = 0;
      point_ = commands_;
    }
    ++elided_;
  }
  last_link_ = commands_;
  last_flag_ = l.signal_flag;
  last_groups_ = workgroups;
  return l;
}

// A barrier() is recorded lazily, before the next command, with exactly the
// stages on each side: the stages of the commands since the previous barrier
// (source) and the next command's (destination). Between two dispatches that
// is compute -> compute, with no transfer stage for the driver to drain.
void CommandStream::barrier() {
  begin_if_needed();
  pending_src_ |= since_barrier_;
  since_barrier_ = 0;
}

void CommandStream::sync_before(uint8_t stage) {
  if (pending_src_) {
    auto stages = [](uint8_t s) {
      vk::PipelineStageFlags f;
      if (s & kComputeStage) f |= vk::PipelineStageFlagBits::eComputeShader;
      if (s & kTransferStage) f |= vk::PipelineStageFlagBits::eTransfer;
      return f;
    };
    vk::AccessFlags src, dst;
    if (pending_src_ & kComputeStage) src |= vk::AccessFlagBits::eShaderWrite;
    if (pending_src_ & kTransferStage) src |= vk::AccessFlagBits::eTransferWrite;
    if (stage & kComputeStage) dst |= vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite;
    if (stage & kTransferStage) dst |= vk::AccessFlagBits::eTransferRead | vk::AccessFlagBits::eTransferWrite;
    cb_.pipelineBarrier(stages(pending_src_), stages(stage), {}, vk::MemoryBarrier{src, dst}, {}, {});
    pending_src_ = 0;
    point_ = commands_;
  }
  since_barrier_ |= stage;
}

void CommandStream::copy(const Buffer& src, const Buffer& dst, uint64_t bytes, uint64_t so, uint64_t doff) {
  if (so > src.size() || bytes > src.size() - so || doff > dst.size() || bytes > dst.size() - doff)
    throw InputError("copy overruns a buffer");
  begin_if_needed();
  sync_before(kTransferStage);
  cb_.copyBuffer(src.handle(), dst.handle(), vk::BufferCopy{so, doff, bytes});
  ++commands_;
}

void CommandStream::mark(const std::string& label) {
  begin_if_needed();
  if (!*queries_ || labels_.size() >= max_timestamps_) return;
  // The pending barrier now, with both stages after it: it also orders
  // whatever comes next, so the next command records none of its own.
  if (pending_src_) sync_before(kComputeStage | kTransferStage);
  cb_.writeTimestamp(vk::PipelineStageFlagBits::eBottomOfPipe, *queries_, static_cast<uint32_t>(labels_.size()));
  labels_.push_back(label);
}

void CommandStream::submit_and_wait() {
  spans_.clear();
  if (!recording_ && !recorded_) return;
  if (recording_) {
    // Results of the stream are read by the host after the fence.
    vk::MemoryBarrier mb{vk::AccessFlagBits::eMemoryWrite, vk::AccessFlagBits::eHostRead};
    cb_.pipelineBarrier(vk::PipelineStageFlagBits::eAllCommands, vk::PipelineStageFlagBits::eHost, {}, mb, {}, {});
    cb_.end();
    recording_ = false;
    recorded_ = reusable_;
  }
  vk::SubmitInfo si{};
  vk::CommandBuffer raw = *cb_;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &raw;
  device_.vk().resetFences({*fence_});
  device_.submit(si, fence_, "command stream");
  device_.wait(fence_, "command stream");
  if (*queries_ && labels_.size() > 1) {
    const auto n = static_cast<uint32_t>(labels_.size());
    std::vector<uint64_t> ts(n);
    const auto r = (*device_.vk()).getQueryPoolResults(*queries_, 0, n, n * sizeof(uint64_t), ts.data(), sizeof(uint64_t),
                                                       vk::QueryResultFlagBits::e64 | vk::QueryResultFlagBits::eWait,
                                                       *device_.vk().getDispatcher());
    if (r == vk::Result::eSuccess) {
      const double period = device_.caps().timestamp_period_ns;
      for (uint32_t i = 1; i < n; ++i)
        spans_.push_back({labels_[i], static_cast<double>(ts[i] - ts[i - 1]) * period * 1e-6});
    }
  }
  if (!reusable_) reset();
}

void CommandStream::reset() {
  if (recording_) {
    cb_.end();
    recording_ = false;
  }
  recorded_ = false;
  for (auto& p : pools_) p.reset();
  if (pools_.size() > 1) pools_.erase(pools_.begin() + 1, pools_.end());
  sets_in_last_pool_ = 0;
}

}  // namespace vkq
