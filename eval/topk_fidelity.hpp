// Fidelity against a reference from its top-k alone. The reference run keeps,
// per scored position, its k largest logits (token ids, descending, lowest id
// first on ties) and the log-sum-exp of all its logits: k * 8 + 8 bytes
// instead of vocab * 4, so a later variant's KLD streams in O(vocab) memory
// and the reference runs once per device.
//
// KLD from the top-k, with the other tokens pooled into one "rest" bucket:
//   p_i = exp(l_i - lse_ref), q_i = exp(m_i - lse_model) for the k tokens,
//   P = 1 - sum p_i, Q = 1 - sum q_i,
//   KL ~ sum_i p_i log(p_i / q_i) + P log(P / Q).
// Pooling never increases a KL divergence (log-sum inequality), so this is
// a lower bound of the full KL(P_ref || P_model), equal to it when the
// reference puts (almost) nothing outside its top k, and exact when k is
// the whole vocabulary. top-1 agreement and Delta-p need only t* = ids[0].
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "token_metrics.hpp"

namespace vkq::eval {

inline constexpr uint32_t kReferenceTopK = 32;

// One position of the reference: ids[0..k) and their logits, descending.
struct TopK {
  double lse = 0;  // fp64: the variant's log-probabilities are computed in fp64 too, so identical logits give KLD 0
  std::vector<int32_t> ids;
  std::vector<float> logits;
};

// The k largest of `logits` (all of them when k >= vocab) and the lse.
TopK top_k(std::span<const float> logits, uint32_t k = kReferenceTopK);

// Fidelity of `model_logits` against the reference's top-k: kld as above,
// same_top (model argmax == ids[0]), delta_p = p_model(t*) - p_ref(t*).
// InputError for a token id outside the model's vocabulary.
Fidelity fidelity_topk(const TopK& ref, std::span<const float> model_logits);

}  // namespace vkq::eval
