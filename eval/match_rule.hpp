// Checks a `generate` item's greedy continuation against its match rule:
//   exact   the continuation, cut at the item's stop string and trimmed of
//           surrounding whitespace, equals the value (trimmed too);
//   prefix  the continuation, leading whitespace trimmed, starts with the
//           value (leading whitespace trimmed);
//   regex   ECMAScript search anywhere in the cut continuation;
//   json    the cut, trimmed continuation parses as one JSON document and,
//           when keys are given, is an object with each of them.
#pragma once

#include <string>
#include <string_view>

#include "eval_set.hpp"

namespace vkq::eval {

// The continuation up to (not including) the first occurrence of `stop`
// ("" = no stop string).
std::string_view cut_at_stop(std::string_view text, std::string_view stop);

bool matches(const MatchSpec& m, std::string_view continuation, std::string_view stop);

}  // namespace vkq::eval
