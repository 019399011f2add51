#include "choice_score.hpp"

#include <fmt/format.h>

#include "error.hpp"

namespace vkq::eval {

ChoicePick pick_choice(std::span<const double> loglik, std::span<const size_t> bytes) {
  if (loglik.empty() || loglik.size() != bytes.size())
    throw InputError(fmt::format("pick_choice: {} log-likelihoods for {} options", loglik.size(), bytes.size()));
  ChoicePick p;
  for (uint32_t i = 0; i < loglik.size(); ++i) {
    if (bytes[i] == 0) throw InputError("pick_choice: an option has no bytes");
    if (loglik[i] > loglik[p.best]) p.best = i;
    if (loglik[i] / double(bytes[i]) > loglik[p.best_norm] / double(bytes[p.best_norm])) p.best_norm = i;
  }
  return p;
}

}  // namespace vkq::eval
