#include "eval_set.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "sha256.hpp"

namespace vkq::eval {
namespace {

using nlohmann::json;

// A message prefix: "FILE:LINE" (or "FILE" for the manifest).
struct Where {
  std::string file;
  size_t line = 0;
  std::string str() const { return line ? fmt::format("{}:{}", file, line) : file; }
};

[[noreturn]] void fail(const Where& w, const std::string& what) { throw InputError(fmt::format("{}: {}", w.str(), what)); }

const json& need(const json& obj, const char* key, const Where& w) {
  const auto it = obj.find(key);
  if (it == obj.end()) fail(w, fmt::format("missing \"{}\"", key));
  return *it;
}

std::string need_string(const json& obj, const char* key, const Where& w, bool nonempty = true) {
  const auto& v = need(obj, key, w);
  if (!v.is_string()) fail(w, fmt::format("\"{}\" must be a string", key));
  auto s = v.get<std::string>();
  if (nonempty && s.empty()) fail(w, fmt::format("\"{}\" is empty", key));
  return s;
}

std::optional<std::string> opt_string(const json& obj, const char* key, const Where& w) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_string()) fail(w, fmt::format("\"{}\" must be a string", key));
  return it->get<std::string>();
}

std::vector<std::string> string_array(const json& v, const char* key, const Where& w, size_t max) {
  if (!v.is_array()) fail(w, fmt::format("\"{}\" must be an array of strings", key));
  if (v.size() > max) fail(w, fmt::format("\"{}\" has {} entries; at most {}", key, v.size(), max));
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) fail(w, fmt::format("\"{}\" must be an array of strings", key));
    out.push_back(e.get<std::string>());
  }
  return out;
}

uint64_t need_uint(const json& obj, const char* key, const Where& w, uint64_t lo, uint64_t hi) {
  const auto& v = need(obj, key, w);
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
    fail(w, fmt::format("\"{}\" must be a non-negative integer", key));
  const uint64_t x = v.get<uint64_t>();
  if (x < lo || x > hi) fail(w, fmt::format("\"{}\" is {}; expected {} .. {}", key, x, lo, hi));
  return x;
}

void only_keys(const json& obj, std::initializer_list<const char*> allowed, const Where& w) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) fail(w, fmt::format("unknown key \"{}\"", it.key()));
  }
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (const char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A data file path inside the set's folder: relative, no "..", no hidden tricks.
bool safe_relative_path(const std::string& p) {
  if (p.empty() || p.size() > 256 || p[0] == '/' || p.find('\\') != std::string::npos ||
      p.find('\0') != std::string::npos)
    return false;
  for (const auto& part : std::filesystem::path(p))
    if (part == ".." || part == ".") return false;
  return true;
}

MatchSpec parse_match(const json& m, const Where& w) {
  if (!m.is_object()) fail(w, "\"match\" must be an object");
  const std::string rule = need_string(m, "rule", w);
  MatchSpec spec;
  if (rule == "exact" || rule == "prefix") {
    only_keys(m, {"rule", "value"}, w);
    spec.rule = rule == "exact" ? MatchRule::exact : MatchRule::prefix;
    spec.value = need_string(m, "value", w);
  } else if (rule == "regex") {
    only_keys(m, {"rule", "pattern"}, w);
    spec.rule = MatchRule::regex;
    spec.value = need_string(m, "pattern", w);
    if (spec.value.size() > kMaxPatternBytes)
      fail(w, fmt::format("\"pattern\" has {} bytes; at most {}", spec.value.size(), kMaxPatternBytes));
    try {
      spec.re = std::make_shared<const std::regex>(spec.value, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail(w, fmt::format("\"pattern\" is not a valid regular expression: {}", e.what()));
    }
  } else if (rule == "json") {
    only_keys(m, {"rule", "keys"}, w);
    spec.rule = MatchRule::json;
    if (m.contains("keys")) spec.keys = string_array(m["keys"], "keys", w, 64);
  } else {
    fail(w, fmt::format("unknown match rule \"{}\" (expected exact, prefix, regex or json)", rule));
  }
  return spec;
}

void check_dimension_fits(const EvalItem& it, const Dimension& d, const Where& w) {
  for (const Metric m : d.metrics)
    if (metric_info(m).kind == it.kind) return;
  fail(w, fmt::format("item \"{}\" of kind {} is in dimension \"{}\", whose metrics no {} item produces", it.id,
                      kind_name(it.kind), d.name, kind_name(it.kind)));
}

}  // namespace

const char* match_rule_name(MatchRule r) {
  switch (r) {
    case MatchRule::exact: return "exact";
    case MatchRule::prefix: return "prefix";
    case MatchRule::regex: return "regex";
    case MatchRule::json: return "json";
  }
  return "?";
}

std::string EvalItem::where() const { return fmt::format("{}:{} (id {})", file, line, id); }

const Dimension* EvalSet::find_dimension(const std::string& n) const {
  for (const auto& d : dimensions)
    if (d.name == n) return &d;
  return nullptr;
}

bool EvalSet::has_slice(const std::string& n) const {
  for (const auto& s : slices)
    if (s.name == n) return true;
  return false;
}

EvalItem parse_item(std::string_view line, const EvalSet& set, const std::string& file, size_t line_no) {
  const Where w{file, line_no};
  if (line.size() > kMaxLineBytes) fail(w, fmt::format("line of {} bytes; at most {}", line.size(), kMaxLineBytes));
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    fail(w, fmt::format("not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) fail(w, "an item must be a JSON object");
  EvalItem it;
  it.file = file;
  it.line = line_no;
  it.id = need_string(j, "id", w);
  if (it.id.size() > 128) fail(w, "\"id\" is longer than 128 bytes");
  it.slice = need_string(j, "slice", w);
  if (!set.has_slice(it.slice))
    fail(w, fmt::format("item \"{}\": unknown slice \"{}\" (the manifest declares: {})", it.id, it.slice, [&] {
           std::string s;
           for (const auto& sl : set.slices) s += (s.empty() ? "" : ", ") + sl.name;
           return s;
         }()));
  const std::string kind = need_string(j, "kind", w);
  const auto k = parse_kind(kind);
  if (!k) fail(w, fmt::format("item \"{}\": unknown kind \"{}\" (expected text, choice or generate)", it.id, kind));
  it.kind = *k;
  it.dimensions = string_array(need(j, "dimensions", w), "dimensions", w, 16);
  if (it.dimensions.empty()) fail(w, fmt::format("item \"{}\": \"dimensions\" is empty", it.id));
  std::set<std::string> seen_dims;
  for (const auto& dn : it.dimensions) {
    const Dimension* d = set.find_dimension(dn);
    if (!d) fail(w, fmt::format("item \"{}\": unknown dimension \"{}\"", it.id, dn));
    if (!seen_dims.insert(dn).second) fail(w, fmt::format("item \"{}\": dimension \"{}\" listed twice", it.id, dn));
    check_dimension_fits(it, *d, w);
  }
  switch (it.kind) {
    case ItemKind::text:
      only_keys(j, {"id", "slice", "kind", "dimensions", "text"}, w);
      it.text = need_string(j, "text", w);
      break;
    case ItemKind::choice: {
      only_keys(j, {"id", "slice", "kind", "dimensions", "context", "choices", "answer"}, w);
      it.context = need_string(j, "context", w, false);
      it.choices = string_array(need(j, "choices", w), "choices", w, kMaxChoices);
      if (it.choices.size() < 2) fail(w, fmt::format("item \"{}\": \"choices\" needs at least 2 options", it.id));
      for (const auto& c : it.choices)
        if (c.empty()) fail(w, fmt::format("item \"{}\": an option is empty", it.id));
      it.answer = static_cast<uint32_t>(need_uint(j, "answer", w, 0, it.choices.size() - 1));
      break;
    }
    case ItemKind::generate:
      only_keys(j, {"id", "slice", "kind", "dimensions", "prompt", "max_tokens", "stop", "match"}, w);
      it.prompt = need_string(j, "prompt", w, false);
      it.max_tokens = static_cast<uint32_t>(need_uint(j, "max_tokens", w, 1, kMaxGenerateTokens));
      it.stop = opt_string(j, "stop", w).value_or("");
      it.match = parse_match(need(j, "match", w), w);
      break;
  }
  return it;
}

EvalSet parse_eval_set(std::string_view manifest, const std::function<std::string(const std::string&)>& read,
                       const std::string& origin) {
  const Where mw{origin.empty() ? std::string("manifest.json") : origin + "/manifest.json", 0};
  json m;
  try {
    m = json::parse(manifest);
  } catch (const json::exception& e) {
    fail(mw, fmt::format("not valid JSON: {}", e.what()));
  }
  if (!m.is_object()) fail(mw, "must be a JSON object");
  only_keys(m, {"schema", "name", "version", "description", "files", "slices", "dimensions"}, mw);
  if (need_string(m, "schema", mw) != "vkq.evalset/1") fail(mw, "\"schema\" must be \"vkq.evalset/1\"");
  EvalSet set;
  set.path = origin;
  set.sha256 = quant::sha256_hex(manifest);
  set.name = need_string(m, "name", mw);
  if (!valid_name(set.name)) fail(mw, fmt::format("\"name\" \"{}\" must be letters, digits, '-', '_' or '.'", set.name));
  set.version = need_string(m, "version", mw);
  if (set.version.size() > 64) fail(mw, "\"version\" is longer than 64 bytes");
  set.description = opt_string(m, "description", mw).value_or("");

  const auto& slices = need(m, "slices", mw);
  if (!slices.is_array() || slices.empty() || slices.size() > 256) fail(mw, "\"slices\" must be an array of 1 .. 256 slices");
  for (const auto& s : slices) {
    if (!s.is_object()) fail(mw, "each slice must be an object {\"name\", \"description\"}");
    only_keys(s, {"name", "description"}, mw);
    Slice sl{need_string(s, "name", mw), opt_string(s, "description", mw).value_or("")};
    if (!valid_name(sl.name)) fail(mw, fmt::format("slice name \"{}\" must be letters, digits, '-', '_' or '.'", sl.name));
    if (sl.name == "all") fail(mw, "slice name \"all\" is reserved for the aggregate over slices");
    if (set.has_slice(sl.name)) fail(mw, fmt::format("slice \"{}\" declared twice", sl.name));
    set.slices.push_back(std::move(sl));
  }

  const auto& dims = need(m, "dimensions", mw);
  if (!dims.is_array() || dims.empty() || dims.size() > 64) fail(mw, "\"dimensions\" must be an array of 1 .. 64 dimensions");
  for (const auto& d : dims) {
    if (!d.is_object()) fail(mw, "each dimension must be an object {\"name\", \"description\", \"metrics\"}");
    only_keys(d, {"name", "description", "metrics"}, mw);
    Dimension dim{need_string(d, "name", mw), opt_string(d, "description", mw).value_or(""), {}};
    if (!valid_name(dim.name)) fail(mw, fmt::format("dimension name \"{}\" must be letters, digits, '-', '_' or '.'", dim.name));
    if (set.find_dimension(dim.name)) fail(mw, fmt::format("dimension \"{}\" declared twice", dim.name));
    for (const auto& mn : string_array(need(d, "metrics", mw), "metrics", mw, 16)) {
      const auto metric = parse_metric(mn);
      if (!metric) fail(mw, fmt::format("dimension \"{}\": unknown metric \"{}\"", dim.name, mn));
      for (const Metric x : dim.metrics)
        if (x == *metric) fail(mw, fmt::format("dimension \"{}\": metric \"{}\" listed twice", dim.name, mn));
      dim.metrics.push_back(*metric);
    }
    if (dim.metrics.empty()) fail(mw, fmt::format("dimension \"{}\" lists no metrics", dim.name));
    set.dimensions.push_back(std::move(dim));
  }

  const auto& files = need(m, "files", mw);
  if (!files.is_array() || files.empty() || files.size() > 1024) fail(mw, "\"files\" must be an array of 1 .. 1024 files");
  std::unordered_set<std::string> ids;
  std::set<std::string> paths;
  for (const auto& f : files) {
    if (!f.is_object()) fail(mw, "each file must be an object {\"path\", \"sha256\"}");
    only_keys(f, {"path", "sha256"}, mw);
    EvalSet::File file{need_string(f, "path", mw), need_string(f, "sha256", mw)};
    if (!safe_relative_path(file.path))
      fail(mw, fmt::format("file path \"{}\" must be relative and inside the set's folder", file.path));
    if (!is_hex64(file.sha256)) fail(mw, fmt::format("\"{}\": sha256 must be 64 lowercase hex digits", file.path));
    if (!paths.insert(file.path).second) fail(mw, fmt::format("file \"{}\" listed twice", file.path));
    const std::string bytes = read(file.path);
    const std::string actual = quant::sha256_hex(bytes);
    if (actual != file.sha256)
      throw InputError(fmt::format("{}: sha256 is {}, but {} says {}", origin.empty() ? file.path : origin + "/" + file.path,
                                   actual, mw.file, file.sha256),
                       "a changed data file needs a new version and its new hash in manifest.json");
    size_t line_no = 0, pos = 0;
    while (pos < bytes.size()) {
      size_t end = bytes.find('\n', pos);
      if (end == std::string::npos) end = bytes.size();
      std::string_view line(bytes.data() + pos, end - pos);
      ++line_no;
      pos = end + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      if (set.items.size() >= kMaxItems) fail({file.path, line_no}, fmt::format("more than {} items", kMaxItems));
      EvalItem it = parse_item(line, set, file.path, line_no);
      if (!ids.insert(it.id).second) fail({file.path, line_no}, fmt::format("duplicate id \"{}\"", it.id));
      set.items.push_back(std::move(it));
    }
    set.files.push_back(std::move(file));
  }
  if (set.items.empty()) fail(mw, "the set has no items");
  return set;
}

EvalSet load_eval_set(const std::string& folder) {
  namespace fs = std::filesystem;
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot open", p.string()));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const fs::path dir(folder);
  if (!fs::is_directory(dir))
    throw InputError(fmt::format("{}: not an eval-set folder", folder), "an eval set is a folder with manifest.json");
  const std::string manifest = slurp(dir / "manifest.json");
  return parse_eval_set(manifest, [&](const std::string& p) { return slurp(dir / p); }, dir.string());
}

}  // namespace vkq::eval
