#include "scorecard_config.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "error.hpp"
#include "model_paths.hpp"
#include "quant_bridge.hpp"

namespace vkq::eval {
namespace {

struct Ctx {
  std::string origin, base_dir;
  std::string at(const toml::node& n) const {
    const auto line = n.source().begin.line;
    return line ? fmt::format("{}:{}", origin, line) : origin;
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& what) const {
    throw InputError(fmt::format("{}: {}", at(n), what));
  }
  std::string path(const std::string& p) const {
    if (p.rfind("models:", 0) == 0) return resolve_model_path(p);
    const std::filesystem::path fp(p);
    return fp.is_absolute() || base_dir.empty() ? p : (std::filesystem::path(base_dir) / fp).lexically_normal().string();
  }
};

void only_keys(const Ctx& c, const toml::table& t, std::initializer_list<const char*> allowed, const char* what) {
  for (auto&& [k, v] : t) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k.str() == a;
    if (!ok) c.fail(v, fmt::format("unknown key \"{}\" in {}", k.str(), what));
  }
}

std::optional<std::string> opt_str(const Ctx& c, const toml::table& t, const char* key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) c.fail(*n, fmt::format("\"{}\" must be a string", key));
  return n->value<std::string>();
}

std::string need_str(const Ctx& c, const toml::table& t, const char* key, const toml::node& owner) {
  auto s = opt_str(c, t, key);
  if (!s || s->empty()) c.fail(owner, fmt::format("missing \"{}\"", key));
  return *s;
}

template <class T>
std::optional<T> opt_int(const Ctx& c, const toml::table& t, const char* key, int64_t lo, int64_t hi) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_integer()) c.fail(*n, fmt::format("\"{}\" must be an integer", key));
  const int64_t v = *n->value<int64_t>();
  if (v < lo || v > hi) c.fail(*n, fmt::format("\"{}\" is {}; expected {} .. {}", key, v, lo, hi));
  return static_cast<T>(v);
}

std::optional<double> opt_num(const Ctx& c, const toml::table& t, const char* key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (!n->is_number()) c.fail(*n, fmt::format("\"{}\" must be a number", key));
  return n->value<double>();
}

std::vector<std::string> str_list(const Ctx& c, const toml::node& n, const char* key, bool allow_ints = false) {
  const toml::array* a = n.as_array();
  if (!a) c.fail(n, fmt::format("\"{}\" must be an array", key));
  std::vector<std::string> out;
  for (const auto& e : *a) {
    if (e.is_string()) {
      out.push_back(*e.value<std::string>());
    } else if (allow_ints && e.is_integer() && *e.value<int64_t>() >= 0) {
      out.push_back(std::to_string(*e.value<int64_t>()));
    } else {
      c.fail(e, fmt::format("\"{}\" must hold {}", key, allow_ints ? "strings or device indices" : "strings"));
    }
  }
  return out;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) return false;
  return true;
}

VariantSpec parse_variant(const Ctx& c, const toml::table& t) {
  only_keys(c, t,
            {"name", "reference", "path", "checkpoint", "tokenizer", "from", "method", "type", "calib", "samples",
             "seq_len", "seed"},
            "a [[variant]]");
  VariantSpec v;
  v.name = need_str(c, t, "name", t);
  if (!valid_name(v.name)) c.fail(t, fmt::format("variant name \"{}\" must be letters, digits, '-', '_' or '.'", v.name));
  if (const toml::node* r = t.get("reference")) {
    if (!r->is_boolean()) c.fail(*r, "\"reference\" must be true or false");
    v.reference = *r->value<bool>();
  }
  const bool has_path = t.contains("path"), has_ckpt = t.contains("checkpoint"), has_from = t.contains("from");
  if (int(has_path) + int(has_ckpt) + int(has_from) != 1)
    c.fail(t, fmt::format("variant \"{}\" needs exactly one of \"path\" (GGUF), \"checkpoint\" (llama2.c) or \"from\" "
                          "(a recipe)",
                          v.name));
  auto no = [&](std::initializer_list<const char*> keys, const char* why) {
    for (const char* k : keys)
      if (const toml::node* n = t.get(k)) c.fail(*n, fmt::format("\"{}\" {}", k, why));
  };
  if (has_path) {
    v.source = VariantSpec::Source::gguf;
    v.path = c.path(need_str(c, t, "path", t));
    no({"tokenizer", "method", "type", "calib", "samples", "seq_len", "seed"}, "belongs to a checkpoint or a recipe");
  } else if (has_ckpt) {
    v.source = VariantSpec::Source::checkpoint;
    v.path = c.path(need_str(c, t, "checkpoint", t));
    v.tokenizer = c.path(need_str(c, t, "tokenizer", t));
    no({"method", "type", "calib", "samples", "seq_len", "seed"}, "belongs to a recipe");
  } else {
    v.source = VariantSpec::Source::recipe;
    v.from = need_str(c, t, "from", t);
    no({"tokenizer"}, "belongs to a checkpoint");
    const std::string m = need_str(c, t, "method", t);
    const auto method = parse_recipe_method(m);
    if (!method) c.fail(*t.get("method"), fmt::format("unknown method \"{}\" (expected rtn, gptq or awq)", m));
    v.method = *method;
    const std::string ty = need_str(c, t, "type", t);
    const auto type = parse_recipe_type(ty);
    if (!type) c.fail(*t.get("type"), fmt::format("type \"{}\": expected q4_0, q4_1 or q8_0", ty));
    v.type = *type;
    if (auto cal = opt_str(c, t, "calib")) v.calib = c.path(*cal);
    if (v.method != quant::Method::rtn && v.calib.empty())
      c.fail(t, fmt::format("variant \"{}\": method {} needs \"calib\" (a calibration text file)", v.name, m));
    if (auto s = opt_int<uint32_t>(c, t, "samples", 1, 1 << 20)) v.samples = *s;
    if (auto s = opt_int<uint32_t>(c, t, "seq_len", 2, 1 << 20)) v.seq_len = *s;
    if (auto s = opt_int<uint64_t>(c, t, "seed", 0, INT64_MAX)) v.seed = *s;
  }
  return v;
}

// A gate's allowed regression, as the TOML config and scorecard JSON both
// require it: a negative allowance would make a variant fail against itself.
bool allowed_regression_ok(double v) { return v >= 0 && std::isfinite(v); }
constexpr const char* kAllowedRegression = "the allowed regression must be a finite number >= 0";

GateSpec parse_gate(const Ctx& c, const toml::table& t) {
  only_keys(c, t, {"dimension", "metric", "slice", "variants", "max_regression", "max_regression_rel"}, "a [[gate]]");
  GateSpec g;
  g.where = c.at(t);
  g.dimension = need_str(c, t, "dimension", t);
  if (auto m = opt_str(c, t, "metric")) {
    const auto metric = parse_metric(*m);
    if (!metric) c.fail(*t.get("metric"), fmt::format("unknown metric \"{}\"", *m));
    g.metric = *metric;
  }
  if (auto s = opt_str(c, t, "slice")) {
    if (s->empty() || *s == "all")
      c.fail(*t.get("slice"), "a gate judges one slice or each slice (\"*\"); the aggregate over slices never gates");
    g.slice = *s;
  }
  if (const toml::node* n = t.get("variants")) g.variants = str_list(c, *n, "variants");
  const auto abs = opt_num(c, t, "max_regression"), rel = opt_num(c, t, "max_regression_rel");
  if (abs.has_value() == rel.has_value())
    c.fail(t, "a gate needs exactly one of \"max_regression\" (absolute) or \"max_regression_rel\" (relative)");
  g.relative = rel.has_value();
  g.max_regression = abs ? *abs : *rel;
  if (!allowed_regression_ok(g.max_regression)) c.fail(t, kAllowedRegression);
  return g;
}

template <class Fn>
void each_table(const Ctx& c, const toml::table& root, const char* key, Fn&& fn) {
  const toml::node* n = root.get(key);
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) c.fail(*n, fmt::format("\"{}\" must be an array of tables ([[{}]])", key, key));
  for (const auto& e : *a) {
    const toml::table* t = e.as_table();
    if (!t) c.fail(e, fmt::format("each [[{}]] must be a table", key));
    fn(*t);
  }
}

}  // namespace

std::optional<GgmlType> parse_recipe_type(const std::string& s) {
  const auto t = parse_ggml_type(s);
  if (t && (*t == GgmlType::Q4_0 || *t == GgmlType::Q4_1 || *t == GgmlType::Q8_0)) return t;
  return std::nullopt;
}

const VariantSpec& ScorecardConfig::reference() const {
  for (const auto& v : variants)
    if (v.reference) return v;
  throw InputError("the config has no reference variant");
}

const VariantSpec* ScorecardConfig::find_variant(const std::string& n) const {
  for (const auto& v : variants)
    if (v.name == n) return &v;
  return nullptr;
}

ScorecardConfig parse_config(std::string_view text, const std::string& origin, const std::string& base_dir) {
  const Ctx c{origin, base_dir};
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}: not valid TOML: {}", origin, e.source().begin.line, e.description()));
  }
  only_keys(c, root, {"name", "eval_sets", "devices", "bootstrap", "report", "variant", "gate"}, "the config");
  ScorecardConfig cfg;
  cfg.path = origin;
  cfg.name = opt_str(c, root, "name").value_or("scorecard");

  const toml::node* sets = root.get("eval_sets");
  if (!sets) throw InputError(fmt::format("{}: missing \"eval_sets\" (eval-set folders)", origin));
  for (const auto& s : str_list(c, *sets, "eval_sets")) cfg.eval_sets.push_back(c.path(s));
  if (cfg.eval_sets.empty()) c.fail(*sets, "\"eval_sets\" is empty");

  if (const toml::node* d = root.get("devices")) {
    cfg.devices = str_list(c, *d, "devices", true);
    if (cfg.devices.empty()) c.fail(*d, "\"devices\" is empty");
  } else {
    cfg.devices = {"all", "cpu"};
  }

  if (const toml::node* b = root.get("bootstrap")) {
    const toml::table* t = b->as_table();
    if (!t) c.fail(*b, "[bootstrap] must be a table");
    only_keys(c, *t, {"resamples", "confidence", "seed"}, "[bootstrap]");
    if (auto r = opt_int<uint32_t>(c, *t, "resamples", 10, 1000000)) cfg.bootstrap.resamples = *r;
    if (auto x = opt_num(c, *t, "confidence")) {
      if (!(*x > 0 && *x < 1)) c.fail(*t->get("confidence"), "\"confidence\" must be in (0, 1)");
      cfg.bootstrap.confidence = *x;
    }
    if (auto s = opt_int<uint64_t>(c, *t, "seed", 0, INT64_MAX)) cfg.bootstrap.seed = *s;
  }
  if (const toml::node* r = root.get("report")) {
    const toml::table* t = r->as_table();
    if (!t) c.fail(*r, "[report] must be a table");
    only_keys(c, *t, {"accuracy"}, "[report]");
    if (auto a = opt_str(c, *t, "accuracy")) cfg.accuracy = *a;
  }

  std::set<std::string> names;
  each_table(c, root, "variant", [&](const toml::table& t) {
    auto v = parse_variant(c, t);
    if (!names.insert(v.name).second) c.fail(t, fmt::format("variant \"{}\" defined twice", v.name));
    cfg.variants.push_back(std::move(v));
  });
  if (cfg.variants.empty()) throw InputError(fmt::format("{}: no [[variant]]", origin));
  int refs = 0;
  for (const auto& v : cfg.variants) refs += v.reference ? 1 : 0;
  if (refs != 1)
    throw InputError(fmt::format("{}: {} variants say reference = true; exactly one must", origin, refs),
                     "mark the variant that the others are compared with");
  for (const auto& v : cfg.variants) {
    if (v.source != VariantSpec::Source::recipe) continue;
    const VariantSpec* from = cfg.find_variant(v.from);
    if (!from) throw InputError(fmt::format("{}: variant \"{}\": from = \"{}\" names no variant", origin, v.name, v.from));
    if (from->source == VariantSpec::Source::recipe)
      throw InputError(fmt::format("{}: variant \"{}\": from = \"{}\" is a recipe; quantize from a file", origin, v.name,
                                   v.from));
    if (v.reference) throw InputError(fmt::format("{}: the reference \"{}\" must be a file, not a recipe", origin, v.name));
  }

  each_table(c, root, "gate", [&](const toml::table& t) {
    auto g = parse_gate(c, t);
    for (const auto& vn : g.variants)
      if (!cfg.find_variant(vn)) c.fail(t, fmt::format("gate names variant \"{}\", which the config does not define", vn));
    cfg.gates.push_back(std::move(g));
  });
  return cfg;
}

ScorecardConfig load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the scorecard config", path));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.size() > (16u << 20)) throw InputError(fmt::format("{}: config larger than 16 MiB", path));
  return parse_config(text, path, std::filesystem::path(path).parent_path().string());
}

nlohmann::json gates_to_json(const std::vector<GateSpec>& gates) {
  auto a = nlohmann::json::array();
  for (const auto& g : gates) {
    nlohmann::json j = {{"dimension", g.dimension}, {"slice", g.slice}, {"variants", g.variants},
                        {"max_regression", g.max_regression}, {"relative", g.relative}, {"where", g.where}};
    j["metric"] = g.metric ? nlohmann::json(metric_name(*g.metric)) : nlohmann::json(nullptr);
    a.push_back(std::move(j));
  }
  return a;
}

std::vector<GateSpec> gates_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) throw InputError(fmt::format("{}: \"gates\" must be an array", where));
  std::vector<GateSpec> out;
  for (const auto& g : j) {
    try {
      GateSpec s;
      s.dimension = g.at("dimension").get<std::string>();
      s.slice = g.at("slice").get<std::string>();
      s.variants = g.at("variants").get<std::vector<std::string>>();
      s.max_regression = g.at("max_regression").get<double>();
      if (!allowed_regression_ok(s.max_regression))
        throw InputError(fmt::format("{}: a gate's max_regression: {}", where, kAllowedRegression));
      s.relative = g.at("relative").get<bool>();
      s.where = g.value("where", std::string());
      if (!g.at("metric").is_null()) {
        const auto m = parse_metric(g.at("metric").get<std::string>());
        if (!m) throw InputError("unknown metric");
        s.metric = *m;
      }
      out.push_back(std::move(s));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}: a gate is malformed: {}", where, e.what()));
    }
  }
  return out;
}

nlohmann::json bootstrap_to_json(const BootstrapOptions& b) {
  return {{"resamples", b.resamples}, {"confidence", b.confidence}, {"seed", b.seed}};
}

BootstrapOptions bootstrap_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    BootstrapOptions b;
    b.resamples = j.at("resamples").get<uint32_t>();
    b.confidence = j.at("confidence").get<double>();
    b.seed = j.at("seed").get<uint64_t>();
    if (b.resamples < 10 || b.resamples > 1000000 || !(b.confidence > 0 && b.confidence < 1))
      throw InputError(fmt::format("{}: bootstrap settings out of range", where));
    return b;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: \"bootstrap\" is malformed: {}", where, e.what()));
  }
}

nlohmann::json variant_to_json(const VariantSpec& v) {
  nlohmann::json j = {{"name", v.name}, {"reference", v.reference}};
  switch (v.source) {
    case VariantSpec::Source::gguf: j["path"] = v.path; break;
    case VariantSpec::Source::checkpoint:
      j["checkpoint"] = v.path;
      j["tokenizer"] = v.tokenizer;
      break;
    case VariantSpec::Source::recipe:
      j["from"] = v.from;
      j["method"] = recipe_method_name(v.method);
      j["type"] = ggml_type_name(v.type);
      if (!v.calib.empty()) j["calib"] = v.calib;
      j["samples"] = v.samples;
      j["seq_len"] = v.seq_len;
      j["seed"] = v.seed;
      break;
  }
  return j;
}

}  // namespace vkq::eval
