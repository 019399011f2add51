// scorecard.json: Scorecard <-> JSON ("schema": "vkq.scorecard/1").
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "error.hpp"
#include "scorecard.hpp"

namespace vkq::eval {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

json interval(const Interval& i) { return json::array({i.lo, i.hi}); }

json memory_json(const MemoryFigures& m) {
  if (!m.known) return {{"predicted_peak_bytes", nullptr}, {"measured_peak_bytes", nullptr}};
  return {{"predicted_peak_bytes", m.predicted}, {"measured_peak_bytes", m.measured}};
}

// Field access that names the document and the path on failure.
struct Reader {
  std::string where;
  const json& at(const json& j, const char* key) const {
    if (!j.is_object() || !j.contains(key)) throw InputError(fmt::format("{}: missing \"{}\"", where, key));
    return j[key];
  }
  std::string str(const json& j, const char* key) const {
    const auto& v = at(j, key);
    if (!v.is_string()) throw InputError(fmt::format("{}: \"{}\" must be a string", where, key));
    return v.get<std::string>();
  }
  double num(const json& j, const char* key) const {
    const auto& v = at(j, key);
    if (!v.is_number()) throw InputError(fmt::format("{}: \"{}\" must be a number", where, key));
    return v.get<double>();
  }
  uint64_t count(const json& j, const char* key) const { return count_from_json(j, key, where); }
  bool boolean(const json& j, const char* key) const {
    const auto& v = at(j, key);
    if (!v.is_boolean()) throw InputError(fmt::format("{}: \"{}\" must be true or false", where, key));
    return v.get<bool>();
  }
  const json& arr(const json& j, const char* key) const {
    const auto& v = at(j, key);
    if (!v.is_array()) throw InputError(fmt::format("{}: \"{}\" must be an array", where, key));
    return v;
  }
  std::vector<std::string> strings(const json& j, const char* key) const {
    std::vector<std::string> out;
    for (const auto& e : arr(j, key)) {
      if (!e.is_string()) throw InputError(fmt::format("{}: \"{}\" must hold strings", where, key));
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  Reader sub(const std::string& what) const { return {where + ": " + what}; }
};

json set_json(const SetInfo& s) {
  json slices = json::array(), dims = json::array(), items = json::array();
  for (const auto& x : s.slices) slices.push_back({{"name", x.name}, {"description", x.description}});
  for (const auto& d : s.dimensions) {
    json ms = json::array();
    for (const Metric m : d.metrics) ms.push_back(metric_name(m));
    dims.push_back({{"name", d.name}, {"description", d.description}, {"metrics", ms}});
  }
  for (const auto& it : s.items)
    items.push_back({{"id", it.id}, {"slice", it.slice}, {"kind", kind_name(it.kind)}, {"dimensions", it.dimensions}});
  return {{"name", s.name},     {"version", s.version}, {"sha256", s.sha256}, {"description", s.description},
          {"path", s.path},     {"slices", slices},     {"dimensions", dims}, {"items", items}};
}

SetInfo set_from_json(const json& j, const Reader& r0) {
  SetInfo s;
  s.name = r0.str(j, "name");
  const Reader r = r0.sub("eval set " + s.name);
  s.version = r.str(j, "version");
  s.sha256 = r.str(j, "sha256");
  s.description = r.str(j, "description");
  s.path = r.str(j, "path");
  for (const auto& x : r.arr(j, "slices")) s.slices.push_back({r.str(x, "name"), r.str(x, "description")});
  for (const auto& d : r.arr(j, "dimensions")) {
    Dimension dim{r.str(d, "name"), r.str(d, "description"), {}};
    for (const auto& mn : r.strings(d, "metrics")) {
      const auto m = parse_metric(mn);
      if (!m) throw InputError(fmt::format("{}: unknown metric \"{}\"", r.where, mn));
      dim.metrics.push_back(*m);
    }
    s.dimensions.push_back(std::move(dim));
  }
  std::set<std::string> slices;
  for (const auto& x : s.slices) slices.insert(x.name);
  for (const auto& it : r.arr(j, "items")) {
    SetInfo::Item item{r.str(it, "id"), r.str(it, "slice"), ItemKind::text, r.strings(it, "dimensions")};
    const auto k = parse_kind(r.str(it, "kind"));
    if (!k) throw InputError(fmt::format("{}: item {}: unknown kind", r.where, item.id));
    item.kind = *k;
    if (!slices.count(item.slice)) throw InputError(fmt::format("{}: item {}: unknown slice", r.where, item.id));
    for (const auto& d : item.dimensions)
      if (!s.find_dimension(d)) throw InputError(fmt::format("{}: item {}: unknown dimension {}", r.where, item.id, d));
    s.items.push_back(std::move(item));
  }
  return s;
}

json row_json(const Row& row) {
  json j = {{"variant", row.variant},
            {"device", row.device},
            {"eval_set", row.eval_set},
            {"slice", row.slice},
            {"dimension", row.dimension},
            {"metric", metric_name(row.metric)},
            {"value", row.value},
            {"ci", interval(row.ci)},
            {"n", row.n},
            {"weight", row.weight},
            {"reference", row.reference},
            {"delta", row.delta},
            {"delta_ci", interval(row.delta_ci)},
            {"regression_ci", interval(row.regression_ci)},
            {"verdict", row.verdict}};
  j["gate"] = row.gate ? json{{"threshold", row.gate->threshold},
                              {"max_regression", row.gate->max_regression},
                              {"relative", row.gate->relative},
                              {"where", row.gate->where}}
                       : json(nullptr);
  return j;
}

json fit_json(const FitRow& f) {
  json j = {{"variant", f.variant},
            {"device", f.device},
            {"model_bytes", f.model_bytes},
            {"prefill_tokens", f.timing.prefill_tokens},
            {"prefill_tokens_per_s", f.timing.prefill_tokens_per_s()},
            {"decode_tokens", f.timing.decode_tokens},
            {"decode_tokens_per_s", f.timing.decode_tokens_per_s()},
            {"load_s", f.load_s}};
  j.update(memory_json(f.memory));
  return j;
}

}  // namespace

json unit_to_json(const Unit& u, const SetInfo& set) {
  json items = json::array();
  for (size_t i = 0; i < u.items.size(); ++i) {
    json it = to_json(set.items[i].kind, u.items[i]);
    it["id"] = set.items[i].id;
    items.push_back(std::move(it));
  }
  json j = {{"variant", u.variant},         {"device", u.device}, {"eval_set", u.eval_set},
            {"timing", to_json(u.timing)},  {"load_s", u.load_s}, {"from_reference_cache", u.from_reference_cache},
            {"memory", memory_json(u.memory)}, {"items", items}};
  return j;
}

Unit unit_from_json(const json& j, const SetInfo& set, const std::string& where) {
  const Reader r{where};
  Unit u;
  u.variant = r.str(j, "variant");
  u.device = r.str(j, "device");
  u.eval_set = r.str(j, "eval_set");
  const Reader ru = r.sub(fmt::format("unit {} on {} over {}", u.variant, u.device, u.eval_set));
  u.timing = run_timing_from_json(ru.at(j, "timing"), ru.where);
  u.load_s = ru.num(j, "load_s");
  u.from_reference_cache = ru.boolean(j, "from_reference_cache");
  const auto& mem = ru.at(j, "memory");
  if (!ru.at(mem, "predicted_peak_bytes").is_null()) {
    u.memory.known = true;
    u.memory.predicted = ru.count(mem, "predicted_peak_bytes");
    u.memory.measured = ru.count(mem, "measured_peak_bytes");
  }
  const auto& items = ru.arr(j, "items");
  if (items.size() != set.items.size())
    throw InputError(fmt::format("{}: {} item results for the {} items of {}", ru.where, items.size(), set.items.size(),
                                 set.name));
  for (size_t i = 0; i < items.size(); ++i) {
    if (ru.str(items[i], "id") != set.items[i].id)
      throw InputError(fmt::format("{}: item {} is {}, expected {}", ru.where, i, ru.str(items[i], "id"), set.items[i].id));
    u.items.push_back(item_score_from_json(set.items[i].kind, items[i], ru.where + ": item " + set.items[i].id));
  }
  return u;
}

ojson to_json(const Scorecard& s) {
  ojson j;
  j["schema"] = "vkq.scorecard/1";
  j["name"] = s.name;
  j["verdict"] = s.verdict;
  j["summary"] = {{"gated_rows", s.gated_rows}, {"failed_rows", s.failed_rows}, {"rows", s.rows.size()}};
  j["run"] = s.run;
  j["config"] = s.config;
  j["bootstrap"] = bootstrap_to_json(s.bootstrap);
  j["gates"] = gates_to_json(s.gates);
  j["accuracy"] = s.accuracy;
  json variants = json::array(), devices = json::array(), sets = json::array(), rows = json::array(),
       fit = json::array(), units = json::array();
  for (const auto& v : s.variants)
    variants.push_back(
        {{"name", v.name}, {"reference", v.reference}, {"source", v.source}, {"sha256", v.sha256}, {"bytes", v.bytes}});
  for (const auto& d : s.devices) devices.push_back(d.to_json());
  for (const auto& set : s.sets) sets.push_back(set_json(set));
  for (const auto& r : s.rows) rows.push_back(row_json(r));
  for (const auto& f : s.fit) fit.push_back(fit_json(f));
  for (const auto& u : s.units) units.push_back(unit_to_json(u, *s.find_set(u.eval_set)));
  j["variants"] = variants;
  j["devices"] = devices;
  j["eval_sets"] = sets;
  j["rows"] = rows;
  j["fit"] = fit;
  j["units"] = units;
  return j;
}

Scorecard scorecard_from_json(const json& j, const std::string& where) {
  const Reader r{where};
  if (!j.is_object() || !j.contains("schema") || j["schema"] != "vkq.scorecard/1")
    throw InputError(fmt::format("{}: not a vkq scorecard (\"schema\": \"vkq.scorecard/1\")", where));
  Scorecard s;
  s.name = r.str(j, "name");
  s.run = r.at(j, "run");
  s.config = r.at(j, "config");
  s.bootstrap = bootstrap_from_json(r.at(j, "bootstrap"), where);
  s.gates = gates_from_json(r.at(j, "gates"), where);
  s.accuracy = r.str(j, "accuracy");
  std::set<std::string> names;
  for (const auto& v : r.arr(j, "variants")) {
    VariantInfo vi{r.str(v, "name"), r.str(v, "source"), r.str(v, "sha256"), r.boolean(v, "reference"),
                   r.count(v, "bytes")};
    if (!names.insert(vi.name).second) throw InputError(fmt::format("{}: variant {} twice", where, vi.name));
    s.variants.push_back(std::move(vi));
  }
  size_t refs = 0;
  for (const auto& v : s.variants) refs += v.reference;
  if (refs != 1) throw InputError(fmt::format("{}: {} reference variants; exactly one expected", where, refs));
  std::set<std::string> ids;
  for (const auto& d : r.arr(j, "devices")) {
    auto e = DeviceEntry::from_json(d, where);
    if (!ids.insert(e.id).second) throw InputError(fmt::format("{}: device {} twice", where, e.id));
    s.devices.push_back(std::move(e));
  }
  std::set<std::string> set_names;
  for (const auto& x : r.arr(j, "eval_sets")) {
    auto si = set_from_json(x, r);
    if (!set_names.insert(si.name).second) throw InputError(fmt::format("{}: eval set {} twice", where, si.name));
    s.sets.push_back(std::move(si));
  }
  for (const auto& u : r.arr(j, "units")) {
    const std::string set_name = r.str(u, "eval_set");
    const SetInfo* set = s.find_set(set_name);
    if (!set) throw InputError(fmt::format("{}: a unit names eval set {}, which the document lacks", where, set_name));
    Unit unit = unit_from_json(u, *set, where);
    if (!names.count(unit.variant) || !ids.count(unit.device))
      throw InputError(fmt::format("{}: a unit names variant {} on device {}, which the document lacks", where,
                                   unit.variant, unit.device));
    if (s.find_unit(unit.variant, unit.device, unit.eval_set))
      throw InputError(fmt::format("{}: unit {} on {} over {} twice", where, unit.variant, unit.device, unit.eval_set));
    s.units.push_back(std::move(unit));
  }
  s.derive();
  return s;
}

Scorecard read_scorecard(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) throw InputError(fmt::format("{}: not valid JSON", path));
  return scorecard_from_json(j, path);
}

}  // namespace vkq::eval
