// Errors raised by the vkq libraries. The libraries never exit; the CLI maps
// each error kind to the exit code in DESIGN.md and prints one line + hint.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

namespace vkq {

struct OomReport;  // oom_report.hpp

// Exit codes shared by every CLI subcommand (DESIGN.md, "Exit codes").
enum class ExitCode : int {
  ok = 0,
  regression = 1,    // a gate or comparison found a regression
  bad_input = 2,     // bad usage or bad input
  device = 3,        // device or driver failure
};

// Base class: a message with context plus an optional hint for the user.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string what, std::string hint = {})
      : std::runtime_error(std::move(what)), code_(code), hint_(std::move(hint)) {}
  ExitCode code() const noexcept { return code_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  ExitCode code_;
  std::string hint_;
};

// Bad usage or bad input: names the file, key or tensor and what was expected.
class InputError : public Error {
 public:
  explicit InputError(std::string what, std::string hint = {})
      : Error(ExitCode::bad_input, std::move(what), std::move(hint)) {}
};

// Device or driver failure: names the device and the Vulkan call. A memory
// failure also carries the fit table (what was planned, what the device has);
// the CLI prints it and its suggestion in place of the hint. Code that knows
// the plan adds it while the error passes: catch (DeviceError& e), fill
// e.oom(), rethrow.
class DeviceError : public Error {
 public:
  explicit DeviceError(std::string what, std::string hint = {}, std::shared_ptr<OomReport> oom = nullptr)
      : Error(ExitCode::device, std::move(what), std::move(hint)), oom_(std::move(oom)) {}
  OomReport* oom() const noexcept { return oom_.get(); }

 private:
  std::shared_ptr<OomReport> oom_;  // shared: exceptions are copied
};

}  // namespace vkq
