// A tiny leveled logger owned by a context object (no global state).
// Level from VKQ_LOG: "debug", "info" (default "warn"). Writes to stderr.
#pragma once

#include <cstdio>
#include <string>

namespace vkq {

class Log {
 public:
  enum class Level { debug = 0, info = 1, warn = 2, quiet = 3 };
  explicit Log(Level level = Level::warn) : level_(level) {}
  static Log from_env();

  bool enabled(Level l) const { return l >= level_; }
  void debug(const std::string& m) const { write(Level::debug, "debug", m); }
  void info(const std::string& m) const { write(Level::info, "info", m); }
  void warn(const std::string& m) const { write(Level::warn, "warning", m); }

 private:
  void write(Level l, const char* tag, const std::string& m) const {
    if (enabled(l)) std::fprintf(stderr, "vkq: %s: %s\n", tag, m.c_str());
  }
  Level level_;
};

}  // namespace vkq
