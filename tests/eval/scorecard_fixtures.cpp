#include "eval/scorecard_fixtures.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "eval/stories_dimensions.hpp"
#include "sha256.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"

namespace vkq::test {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

}  // namespace

nlohmann::json test_manifest(const std::string& name, const std::vector<std::string>& slices) {
  nlohmann::json m = {{"schema", "vkq.evalset/1"}, {"name", name}, {"version", "0.1"}, {"description", "test set"}};
  m["slices"] = nlohmann::json::array();
  for (const auto& s : slices) m["slices"].push_back({{"name", s}, {"description", ""}});
  m["dimensions"] = stories_v1_dimensions();
  return m;
}

std::filesystem::path write_eval_set(const std::filesystem::path& dir, const std::vector<nlohmann::json>& items,
                                     nlohmann::json manifest) {
  std::filesystem::create_directories(dir);
  std::string lines;
  for (const auto& it : items) lines += it.dump() + "\n";
  spit(dir / "items.jsonl", lines);
  manifest["files"] = {{{"path", "items.jsonl"}, {"sha256", quant::sha256_hex(lines)}}};
  spit(dir / "manifest.json", manifest.dump(2));
  return dir;
}

std::filesystem::path bundled_set_dir() { return std::filesystem::path(VKQ_SOURCE_DIR) / "eval/sets/stories-v1"; }

std::filesystem::path write_bundled_subset(const std::filesystem::path& dir, size_t per_slice_kind, const std::string& name) {
  auto manifest = nlohmann::json::parse(slurp(bundled_set_dir() / "manifest.json"));
  std::istringstream in(slurp(bundled_set_dir() / "items.jsonl"));
  std::map<std::string, size_t> taken;
  std::vector<nlohmann::json> items;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    const std::string key = j["slice"].get<std::string>() + "/" + j["kind"].get<std::string>();
    if (taken[key]++ < per_slice_kind) items.push_back(std::move(j));
  }
  manifest["name"] = name;
  return write_eval_set(dir, items, manifest);
}

std::filesystem::path write_stories(const std::filesystem::path& path, GgmlType type) {
  const auto bytes = type == GgmlType::F32 ? stories260k_gguf() : stories260k_requantized(type);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::filesystem::path write_noisy_stories(const std::filesystem::path& path, double sigma, uint64_t seed) {
  auto parts = GgufParts::read(stories260k_gguf());
  std::mt19937_64 g(seed);
  std::normal_distribution<double> n(0, 1);
  for (auto& t : parts.tensors) {
    if (t.ne.size() < 2 || t.type != GgmlType::F32) continue;
    auto* w = reinterpret_cast<float*>(t.data.data());
    const size_t count = t.data.size() / sizeof(float);
    double ss = 0;
    for (size_t i = 0; i < count; ++i) ss += double(w[i]) * w[i];
    const double rms = std::sqrt(ss / double(count));
    for (size_t i = 0; i < count; ++i) w[i] += static_cast<float>(sigma * rms * n(g));
  }
  const auto bytes = parts.write();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace vkq::test
