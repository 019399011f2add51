// A test's environment variable, set for a scope and unset after it.
#pragma once

#include <cstdlib>

namespace vkq::test {

struct Env {  // restores the variable's absence
  const char* name;
  Env(const char* n, const char* v) : name(n) { ::setenv(n, v, 1); }
  ~Env() { ::unsetenv(name); }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
};

}  // namespace vkq::test
