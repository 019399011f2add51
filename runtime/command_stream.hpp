// CommandStream: records many dispatches (with barriers and GPU timestamps)
// into one command buffer, submits once, and waits on a fence.
//
//   CommandStream cs(dev);
//   cs.dispatch(kernel, {a, b, c}, pc, {groups, 1, 1});
//   cs.barrier();               // later dispatches see earlier writes
//   cs.submit_and_wait();       // reusable afterwards
//
// Descriptor sets come from pools owned by the stream and are recycled after
// each submit. A reusable stream keeps its recording instead: every
// submit_and_wait() replays the same commands (the decode step of the
// forward pass, whose inputs the kernels read from buffers); reset() clears
// it for a new recording.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "kernel.hpp"
#include "vulkan.hpp"

namespace vkq {

// A buffer bound to a kernel: the whole buffer, or [offset, offset + range).
struct Binding {
  const Buffer* buffer;
  uint64_t offset = 0;
  uint64_t range = VK_WHOLE_SIZE;
  Binding(const Buffer& b) : buffer(&b) {}  // NOLINT: implicit on purpose
  Binding(const Buffer& b, uint64_t off, uint64_t len) : buffer(&b), offset(off), range(len) {}
};

struct TimedSpan {
  std::string label;
  double ms;  // GPU time from the previous timestamp (or the stream start)
};

class CommandStream {
 public:
  explicit CommandStream(Device& device, uint32_t max_timestamps = 256, bool reusable = false);
  ~CommandStream();

  void dispatch(const Kernel& k, std::initializer_list<Binding> bindings, const void* push_constants,
                uint32_t pc_bytes, std::array<uint32_t, 3> groups);
  template <class PC>
  void dispatch(const Kernel& k, std::initializer_list<Binding> bindings, const PC& pc, std::array<uint32_t, 3> groups) {
    dispatch(k, bindings, &pc, sizeof(PC), groups);
  }
  void barrier();  // earlier compute/transfer writes -> later compute/transfer reads and writes
  void copy(const Buffer& src, const Buffer& dst, uint64_t bytes, uint64_t src_offset = 0, uint64_t dst_offset = 0);
  // Writes a GPU timestamp; spans are measured between consecutive marks.
  // A barrier() pending before it is recorded first, so that by the spec
  // the timestamp follows the work before it; call barrier() before mark()
  // to time what was just recorded. On the H200's driver that made no
  // difference: each span between timestamps after dependent dispatches
  // still times the dispatch before its own (benchmarks/RESULTS.md, calls
  // 24-25), so per-op figures there are shifted by one op; host-timed
  // figures are not.
  void mark(const std::string& label);

  void submit_and_wait();
  // Reusable streams: forget the recording (the next dispatch starts anew).
  void reset();
  bool recorded() const { return recorded_; }
  // Spans from the last submit (empty when the device has no timestamps).
  const std::vector<TimedSpan>& spans() const { return spans_; }
  uint32_t dispatch_count() const { return dispatches_; }

 private:
  void begin_if_needed();
  enum : uint8_t { kComputeStage = 1, kTransferStage = 2 };
  void sync_before(uint8_t stage);  // records a pending barrier() before a command of `stage`
  vk::DescriptorSet allocate_set(const Kernel& k);

  Device& device_;
  vk::raii::CommandBuffer cb_{nullptr};
  vk::raii::Fence fence_{nullptr};
  vk::raii::QueryPool queries_{nullptr};
  std::vector<vk::raii::DescriptorPool> pools_;
  uint32_t sets_in_last_pool_ = 0;
  bool recording_ = false;
  bool reusable_ = false;
  bool recorded_ = false;  // reusable: a finished recording is kept for replay
  uint32_t max_timestamps_;
  std::vector<std::string> labels_;
  std::vector<TimedSpan> spans_;
  uint32_t dispatches_ = 0;
  uint8_t since_barrier_ = 0;  // stages of the commands since the last barrier()
  uint8_t pending_src_ = 0;    // a barrier() not yet recorded: its source stages
};

}  // namespace vkq
