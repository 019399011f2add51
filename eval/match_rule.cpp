#include "match_rule.hpp"

#include <nlohmann/json.hpp>

namespace vkq::eval {
namespace {

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view cut_at_stop(std::string_view text, std::string_view stop) {
  if (stop.empty()) return text;
  const size_t p = text.find(stop);
  return p == std::string_view::npos ? text : text.substr(0, p);
}

bool matches(const MatchSpec& m, std::string_view continuation, std::string_view stop) {
  const std::string_view cut = cut_at_stop(continuation, stop);
  switch (m.rule) {
    case MatchRule::exact: return trim(cut) == trim(m.value);
    case MatchRule::prefix: {
      const std::string_view v = trim_left(m.value), c = trim_left(cut);
      return c.substr(0, v.size()) == v;
    }
    case MatchRule::regex: {
      if (!m.re) return false;
      const std::string s(cut);
      return std::regex_search(s, *m.re);
    }
    case MatchRule::json: {
      const auto j = nlohmann::json::parse(trim(cut), nullptr, false);
      if (j.is_discarded()) return false;
      if (m.keys.empty()) return true;
      if (!j.is_object()) return false;
      for (const auto& k : m.keys)
        if (!j.contains(k)) return false;
      return true;
    }
  }
  return false;
}

}  // namespace vkq::eval
