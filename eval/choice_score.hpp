// Log-likelihood multiple choice, as lm-evaluation-harness scores it: each
// option's log-likelihood is the sum of log p over its continuation tokens
// given the context; `acc` picks the largest sum, `acc_norm` the largest sum
// per byte of the option's text (so long options are not punished for
// having more tokens). Ties go to the lower index.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vkq::eval {

struct ChoicePick {
  uint32_t best = 0;       // by summed log-likelihood
  uint32_t best_norm = 0;  // by log-likelihood per byte
};

// loglik[i]: option i's summed log-likelihood; bytes[i]: its text's length
// (> 0). InputError for empty or mismatched inputs.
ChoicePick pick_choice(std::span<const double> loglik, std::span<const size_t> bytes);

}  // namespace vkq::eval
