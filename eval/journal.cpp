#include "journal.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq::eval {
namespace {

constexpr const char* kSchema = "vkq.scorecard-journal/1";

void write_line(std::FILE* f, const std::string& path, const std::string& line) {
  const std::string s = line + "\n";
  if (std::fwrite(s.data(), 1, s.size(), f) != s.size() || std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)
    throw InputError(fmt::format("{}: cannot write the journal: {}", path, std::strerror(errno)));
}

std::FILE* open_or_throw(const std::string& path, const char* mode) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::FILE* f = std::fopen(path.c_str(), mode);
  if (!f) throw InputError(fmt::format("{}: cannot open the journal: {}", path, std::strerror(errno)));
  return f;
}

}  // namespace

Journal Journal::start(const std::string& path) {
  Journal j(path, open_or_throw(path, "wb"));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  write_line(j.f_, path,
             nlohmann::json{{"schema", kSchema}, {"vkq_version", VKQ_VERSION}, {"started_unix", now.count()}}.dump());
  return j;
}

Journal Journal::resume(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) return start(path);
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  std::map<std::string, nlohmann::json> units;
  size_t pos = 0, line_no = 0, good_end = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    ++line_no;
    if (end == std::string::npos) break;  // cut short by a kill: dropped
    const auto j = nlohmann::json::parse(text.begin() + static_cast<ptrdiff_t>(pos),
                                         text.begin() + static_cast<ptrdiff_t>(end), nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw InputError(fmt::format("{}:{}: damaged journal line", path, line_no),
                       "run without --resume to start again");
    if (line_no == 1) {
      if (!j.contains("schema") || j["schema"] != kSchema)
        throw InputError(fmt::format("{}:1: not a vkq scorecard journal", path), "run without --resume to start again");
    } else {
      if (!j.contains("key") || !j["key"].is_string() || !j.contains("unit") || !j["unit"].is_object())
        throw InputError(fmt::format("{}:{}: damaged journal line", path, line_no), "run without --resume to start again");
      units[j["key"].get<std::string>()] = j["unit"];
    }
    pos = end + 1;
    good_end = pos;
  }
  if (good_end == 0) return start(path);
  // Drop a cut-short last line before appending after the good ones.
  std::filesystem::resize_file(path, good_end);
  Journal jr(path, open_or_throw(path, "ab"));
  jr.units_ = std::move(units);
  return jr;
}

Journal::~Journal() {
  if (f_) std::fclose(f_);
}

Journal::Journal(Journal&& o) noexcept : path_(std::move(o.path_)), f_(o.f_), units_(std::move(o.units_)) { o.f_ = nullptr; }

const nlohmann::json* Journal::find(const std::string& key) const {
  const auto it = units_.find(key);
  return it == units_.end() ? nullptr : &it->second;
}

void Journal::append(const std::string& key, const nlohmann::json& unit) {
  write_line(f_, path_, nlohmann::json{{"key", key}, {"unit", unit}}.dump());
  units_[key] = unit;
}

}  // namespace vkq::eval
