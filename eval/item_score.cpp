#include "item_score.hpp"

#include <fmt/format.h>

#include "error.hpp"

namespace vkq::eval {
namespace {

using nlohmann::json;

const json& field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw InputError(fmt::format("{}: missing \"{}\"", where, key));
  return j[key];
}

double num(const json& j, const char* key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_number()) throw InputError(fmt::format("{}: \"{}\" must be a number", where, key));
  return v.get<double>();
}

bool flag(const json& j, const char* key, const std::string& where) {
  const auto& v = field(j, key, where);
  if (!v.is_boolean()) throw InputError(fmt::format("{}: \"{}\" must be true or false", where, key));
  return v.get<bool>();
}

}  // namespace

std::optional<Sample> metric_sample(ItemKind kind, const ItemScore& s, Metric m) {
  if (metric_info(m).kind != kind) return std::nullopt;
  const double t = s.tokens;
  switch (m) {
    case Metric::perplexity: return Sample{s.nll, t};
    case Metric::kld: return Sample{s.kld, t};
    case Metric::top1: return Sample{s.top1, t};
    case Metric::delta_p: return Sample{s.delta_p, t};
    case Metric::acc: return Sample{s.correct ? 1.0 : 0.0, 1};
    case Metric::acc_norm: return Sample{s.correct_norm ? 1.0 : 0.0, 1};
    case Metric::match: return Sample{s.matched ? 1.0 : 0.0, 1};
  }
  return std::nullopt;
}

json to_json(ItemKind kind, const ItemScore& s) {
  switch (kind) {
    case ItemKind::text:
      return {{"tokens", s.tokens}, {"nll", s.nll}, {"kld", s.kld}, {"top1", s.top1}, {"delta_p", s.delta_p}};
    case ItemKind::choice:
      return {{"loglik", s.loglik}, {"correct", s.correct}, {"correct_norm", s.correct_norm}};
    case ItemKind::generate:
      return {{"output", s.output}, {"matched", s.matched}};
  }
  return {};
}

ItemScore item_score_from_json(ItemKind kind, const json& j, const std::string& where) {
  ItemScore s;
  switch (kind) {
    case ItemKind::text: {
      const double t = num(j, "tokens", where);
      if (!(t >= 1 && t <= 1e9) || t != double(uint32_t(t)))
        throw InputError(fmt::format("{}: \"tokens\" must be a positive integer", where));
      s.tokens = uint32_t(t);
      s.nll = num(j, "nll", where);
      s.kld = num(j, "kld", where);
      s.top1 = num(j, "top1", where);
      s.delta_p = num(j, "delta_p", where);
      break;
    }
    case ItemKind::choice: {
      const auto& l = field(j, "loglik", where);
      if (!l.is_array() || l.size() > 64) throw InputError(fmt::format("{}: \"loglik\" must be an array", where));
      for (const auto& x : l) {
        if (!x.is_number()) throw InputError(fmt::format("{}: \"loglik\" must hold numbers", where));
        s.loglik.push_back(x.get<double>());
      }
      s.correct = flag(j, "correct", where);
      s.correct_norm = flag(j, "correct_norm", where);
      break;
    }
    case ItemKind::generate: {
      const auto& o = field(j, "output", where);
      if (!o.is_string()) throw InputError(fmt::format("{}: \"output\" must be a string", where));
      s.output = o.get<std::string>();
      s.matched = flag(j, "matched", where);
      break;
    }
  }
  return s;
}

json to_json(const RunTiming& t) {
  return {{"prefill_tokens", t.prefill_tokens}, {"prefill_s", t.prefill_s}, {"decode_tokens", t.decode_tokens},
          {"decode_s", t.decode_s}};
}

uint64_t count_from_json(const json& j, const char* key, const std::string& where) {
  // Checked as a double first: casting one past uint64's range is undefined
  // behaviour (found by fuzz_scorecard_json).
  const double v = num(j, key, where);
  if (!(v >= 0 && v <= 9.0e15))  // exact in a double, and past any count of tokens or bytes here
    throw InputError(fmt::format("{}: \"{}\" = {} is not a count", where, key, v));
  return static_cast<uint64_t>(v);
}

RunTiming run_timing_from_json(const json& j, const std::string& where) {
  RunTiming t;
  t.prefill_tokens = count_from_json(j, "prefill_tokens", where);
  t.prefill_s = num(j, "prefill_s", where);
  t.decode_tokens = count_from_json(j, "decode_tokens", where);
  t.decode_s = num(j, "decode_s", where);
  return t;
}

}  // namespace vkq::eval
