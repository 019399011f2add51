// The scorecard's journal: DIR/journal.jsonl, one line per finished unit
// (variant x device x eval set), appended and fsync'ed as each unit ends,
// so that a run killed at any point can be resumed (`--resume`) from the
// units already computed, and the resumed run writes the report an
// uninterrupted run would have written.
//
//   line 1:  {"schema": "vkq.scorecard-journal/1", "vkq_version": ..., "started": ...}
//   then:    {"key": K, "unit": {...unit_to_json...}}
// K hashes everything a unit's results depend on (the variant's file, the
// device and its driver, the eval set, vkq's version), so resuming after a
// change reruns exactly the units it affects. A last line cut short by the
// kill is dropped; any other damage is an error naming the line.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace vkq::eval {

class Journal {
 public:
  // A new journal at `path` (an existing one is replaced).
  static Journal start(const std::string& path);
  // The journal at `path` with the units it holds (a new one if absent).
  static Journal resume(const std::string& path);
  ~Journal();
  Journal(Journal&& o) noexcept;
  Journal& operator=(Journal&&) = delete;
  Journal(const Journal&) = delete;

  const nlohmann::json* find(const std::string& key) const;
  size_t size() const { return units_.size(); }
  // Appends and syncs one unit; InputError naming the file on a failed write.
  void append(const std::string& key, const nlohmann::json& unit);
  const std::string& path() const { return path_; }

 private:
  Journal(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  std::string path_;
  std::FILE* f_ = nullptr;
  std::map<std::string, nlohmann::json> units_;
};

}  // namespace vkq::eval
