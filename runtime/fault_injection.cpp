#include "fault_injection.hpp"

#include <charconv>

#include <fmt/format.h>

#include "error.hpp"
#include "vulkan.hpp"

namespace vkq {
namespace {

constexpr const char* kSyntax = "VKQ_FAULT takes alloc:N and/or submit:N (N >= 1), comma-separated, e.g. alloc:3,submit:10";

}  // namespace

std::string FaultSpec::to_string() const {
  std::string s;
  if (alloc) s += fmt::format("alloc:{}", alloc);
  if (submit) s += fmt::format("{}submit:{}", s.empty() ? "" : ",", submit);
  return s;
}

FaultSpec FaultSpec::parse(std::string_view spec) {
  FaultSpec f;
  if (spec.empty()) return f;
  for (size_t start = 0;;) {
    const auto comma = spec.find(',', start);
    const std::string_view tok = spec.substr(start, comma == std::string_view::npos ? comma : comma - start);
    const auto colon = tok.find(':');
    const std::string_view what = tok.substr(0, colon);
    uint64_t n = 0;
    bool ok = colon != std::string_view::npos;
    if (ok) {
      const std::string_view num = tok.substr(colon + 1);
      const auto r = std::from_chars(num.data(), num.data() + num.size(), n);
      ok = !num.empty() && r.ec == std::errc() && r.ptr == num.data() + num.size() && n > 0;
    }
    uint64_t* slot = what == "alloc" ? &f.alloc : what == "submit" ? &f.submit : nullptr;
    if (!ok || !slot || *slot) throw InputError(fmt::format("VKQ_FAULT: bad token '{}' in '{}'", tok, spec), kSyntax);
    *slot = n;
    if (comma == std::string_view::npos) return f;
    start = comma + 1;
  }
}

void FaultInjector::before_allocate() {
  ++allocations_;
  if (spec_.alloc && allocations_ == spec_.alloc)
    throw vk::OutOfDeviceMemoryError(fmt::format("vkAllocateMemory #{} (injected by VKQ_FAULT={})", allocations_,
                                                 spec_.to_string()));
}

void FaultInjector::before_submit() {
  ++submits_;
  if (spec_.submit && submits_ >= spec_.submit)
    throw vk::DeviceLostError(fmt::format("vkQueueSubmit #{} (injected by VKQ_FAULT={})", submits_, spec_.to_string()));
}

}  // namespace vkq
