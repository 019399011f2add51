// The metrics the scorecard reports, which item kind produces each, and
// which way is better. Every metric aggregates over items as a ratio of sums
// (sum of per-item numerators / sum of per-item denominators), so token-level
// metrics weigh items by their token count and item-level ones count items:
//
//   metric      kind      per-item numerator / denominator        value
//   perplexity  text      sum of -log p(token) / tokens scored      exp(ratio)
//   kld         text      sum of KL(P_ref || P) / tokens            ratio (nats)
//   top1        text      tokens whose argmax agrees / tokens       ratio
//   delta_p     text      sum of p(t*) - p_ref(t*) / tokens         ratio
//   acc         choice    1 if the highest log-likelihood option is the answer / 1
//   acc_norm    choice    the same with log-likelihood per byte of the option / 1
//   match       generate  1 if the greedy continuation passes its rule / 1
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vkq::eval {

enum class ItemKind { text, choice, generate };
const char* kind_name(ItemKind k);
std::optional<ItemKind> parse_kind(const std::string& s);

enum class Metric { perplexity, kld, top1, delta_p, acc, acc_norm, match };

struct MetricInfo {
  Metric metric;
  const char* name;
  ItemKind kind;         // the item kind that produces it
  bool higher_is_better;
  bool exp_of_ratio;     // value = exp(sum num / sum den) (perplexity)
  bool vs_reference;     // measured against the reference variant's distribution (its own value is fixed)
};

const MetricInfo& metric_info(Metric m);
const std::vector<MetricInfo>& all_metrics();
std::optional<Metric> parse_metric(const std::string& s);
const char* metric_name(Metric m);

}  // namespace vkq::eval
