#include "reference_cache.hpp"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "error.hpp"
#include "mapped_file.hpp"

namespace vkq::eval {
namespace {

constexpr char kMagic[8] = {'V', 'K', 'Q', 'R', 'E', 'F', '0', '2'};

template <class T>
void put(ByteSink& s, const T& v) {
  s.write(&v, sizeof v);
}

}  // namespace

void write_reference_cache(const std::string& path, const ReferenceRecord& r) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const uint32_t k = r.topk.empty() ? 0 : static_cast<uint32_t>(r.topk[0].ids.size());
  for (const auto& t : r.topk)
    if (t.ids.size() != k || t.logits.size() != k) throw InputError("reference cache: positions with different k");
  nlohmann::json j = r.unit;
  j["key"] = r.key;
  const std::string js = j.dump();
  AtomicOutputFile f(path);
  auto& s = f.sink();
  s.write(kMagic, sizeof kMagic);
  put<uint64_t>(s, js.size());
  s.write(js.data(), js.size());
  put<uint64_t>(s, r.topk.size());
  put<uint32_t>(s, k);
  for (const auto& t : r.topk) {
    put<double>(s, t.lse);
    s.write(t.ids.data(), k * sizeof(int32_t));
    s.write(t.logits.data(), k * sizeof(float));
  }
  f.commit();
}

std::optional<ReferenceRecord> read_reference_cache(const std::string& path, const std::string& expected_key) {
  if (!std::filesystem::is_regular_file(path)) return std::nullopt;
  const MappedFile map(path);
  const uint8_t* p = map.data();
  const uint64_t size = map.size();
  auto bad = [&](const std::string& what) { return InputError(fmt::format("{}: damaged reference cache: {}", path, what)); };
  uint64_t off = 0;
  auto take = [&](void* dst, uint64_t n) {
    if (n > size - off) throw bad("truncated");
    std::memcpy(dst, p + off, n);
    off += n;
  };
  char magic[8];
  if (size < sizeof magic) throw bad("truncated");
  take(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) throw bad("not a vkq reference cache");
  uint64_t jlen = 0;
  take(&jlen, sizeof jlen);
  if (jlen > size - off) throw bad("JSON length past the end");
  ReferenceRecord r;
  const auto j = nlohmann::json::parse(p + off, p + off + jlen, nullptr, false);
  off += jlen;
  if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string()) throw bad("bad JSON");
  r.key = j["key"].get<std::string>();
  if (r.key != expected_key) throw bad(fmt::format("key {} where {} was expected", r.key, expected_key));
  r.unit = j;
  r.unit.erase("key");
  uint64_t n = 0;
  uint32_t k = 0;
  take(&n, sizeof n);
  take(&k, sizeof k);
  if (k > 1u << 20) throw bad("k out of range");
  const uint64_t per = 8 + uint64_t(k) * 8;
  if (n > (size - off) / per || (size - off) != n * per) throw bad("position table does not match the file size");
  r.topk.resize(n);
  for (auto& t : r.topk) {
    take(&t.lse, 8);
    t.ids.resize(k);
    t.logits.resize(k);
    take(t.ids.data(), uint64_t(k) * 4);
    take(t.logits.data(), uint64_t(k) * 4);
  }
  return r;
}

}  // namespace vkq::eval
