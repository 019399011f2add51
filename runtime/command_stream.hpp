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

// Bytes of a chain's flag buffer per linked dispatch: common/chain.glsl's
// CHAIN_REPLICAS counters CHAIN_SPACING words apart (1 x 32 words) fit, and
// `bench chain --linked`'s replicas x spacing must.
inline constexpr uint64_t kChainFlagBytes = 1024;

// A linked dispatch's place in a chain (CommandStream::link).
struct ChainLink {
  uint32_t wait_flag = 0, wait_count = 0;  // wait_count 0: no wait (a barrier orders it)
  uint32_t signal_flag = 0;
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
  // The same with the bindings in a vector (a kernel whose last binding is optional).
  void dispatch_with(const Kernel& k, const std::vector<Binding>& bindings, const void* push_constants,
                     uint32_t pc_bytes, std::array<uint32_t, 3> groups);
  template <class PC>
  void dispatch_with(const Kernel& k, const std::vector<Binding>& bindings, const PC& pc,
                     std::array<uint32_t, 3> groups) {
    dispatch_with(k, bindings, &pc, sizeof(PC), groups);
  }
  void barrier();  // earlier compute/transfer writes -> later compute/transfer reads and writes

  // Dispatch chains (shaders/common/chain.glsl): from begin_chain() on,
  // a chain-aware op calls link() just before its one dispatch and gets the
  // flag it counts its workgroups in; when the only command since the last
  // barrier point is the previous linked dispatch and a barrier() is pending
  // after it, that barrier is dropped and the link waits on the previous
  // dispatch's flag instead (all of its `workgroups`), so the two overlap.
  // Anything else keeps its barrier (a timestamp records it). begin_chain
  // records flags = 0 and a barrier; one flag per linked dispatch.
  // VKQ_CHAIN_ELIDE=A-B (or B, for 0-B), a debugging aid: only the links
  // that would drop a barrier numbered A .. B-1 (from 0, in recording order)
  // drop it; the others keep theirs and wait on nothing.
  // VKQ_CHAIN_KEEP_BARRIERS (set): the links wait on their counts and the
  // barriers stay too (the waits then pass at once).
  void begin_chain(const Buffer& flags);
  const Buffer* chain_flags() const { return chain_; }
  ChainLink link(uint32_t workgroups);
  // link() for a dispatch about to be recorded: its wait and signal into
  // the push constants (wait_flag, wait_count, signal_flag), the flags as
  // its last binding.
  template <class PC>
  void link(PC& pc, std::vector<Binding>& bindings, uint32_t workgroups) {
    const ChainLink l = link(workgroups);
    pc.wait_flag = l.wait_flag;
    pc.wait_count = l.wait_count;
    pc.signal_flag = l.signal_flag;
    bindings.push_back(*chain_);
  }
  uint32_t barriers_elided() const { return elided_; }
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
  uint32_t commands_ = 0;      // dispatches, copies and fills recorded
  uint32_t point_ = 0;         // commands_ at the last barrier recorded or dropped
  const Buffer* chain_ = nullptr;
  uint32_t next_flag_ = 0, elided_ = 0;
  uint32_t candidates_ = 0, elide_from_ = 0, elide_to_ = UINT32_MAX;  // VKQ_CHAIN_ELIDE
  bool keep_barriers_ = false;  // VKQ_CHAIN_KEEP_BARRIERS
  int64_t last_link_ = -1;  // the command index of the last linked dispatch
  uint32_t last_flag_ = 0, last_groups_ = 0;
};

}  // namespace vkq
