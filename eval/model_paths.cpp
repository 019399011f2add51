#include "model_paths.hpp"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "error.hpp"

#ifndef VKQ_EVAL_SOURCE_DIR
#define VKQ_EVAL_SOURCE_DIR "eval"
#endif

namespace vkq::eval {
namespace {

std::string env(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

std::string user_cache_dir() {
  if (!env("VKQ_CACHE_DIR").empty()) return env("VKQ_CACHE_DIR");
  if (!env("XDG_CACHE_HOME").empty()) return env("XDG_CACHE_HOME") + "/vkq";
  return (env("HOME").empty() ? std::string("/tmp") : env("HOME")) + "/.cache/vkq";
}

}  // namespace

std::vector<std::string> model_dirs() {
  std::vector<std::string> d;
  if (!env("VKQ_MODELS_DIR").empty()) d.push_back(env("VKQ_MODELS_DIR"));
  d.push_back((std::filesystem::path(VKQ_EVAL_SOURCE_DIR).parent_path().parent_path() / "shared" / "models").string());
  d.push_back(user_cache_dir() + "/models");
  return d;
}

std::string resolve_model_path(const std::string& p) {
  const std::string prefix = "models:";
  if (p.rfind(prefix, 0) != 0) return p;
  const std::string name = p.substr(prefix.size());
  if (name.empty() || name.find("..") != std::string::npos)
    throw InputError(fmt::format("\"{}\": a models: path names a file in the models folders", p));
  std::string looked;
  for (const auto& d : model_dirs()) {
    const auto f = std::filesystem::path(d) / name;
    // The error_code form: a name the OS refuses (too long, bad bytes) is
    // "not there", not an exception past InputError (found by fuzz_scorecard_config).
    std::error_code ec;
    if (std::filesystem::is_regular_file(f, ec)) return f.string();
    looked += (looked.empty() ? "" : ", ") + d;
  }
  throw InputError(fmt::format("{} is in none of the models folders ({})", name, looked),
                   "run scripts/get_models.sh (downloads stories260K), or set VKQ_MODELS_DIR");
}

std::string scorecard_cache_dir() { return user_cache_dir() + "/scorecard"; }

std::string eval_data_dir() { return env("VKQ_EVAL_DIR").empty() ? std::string(VKQ_EVAL_SOURCE_DIR) : env("VKQ_EVAL_DIR"); }

std::string demo_config_path() { return (std::filesystem::path(eval_data_dir()) / "demo.toml").string(); }

}  // namespace vkq::eval
