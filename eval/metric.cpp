#include "metric.hpp"

namespace vkq::eval {

const char* kind_name(ItemKind k) {
  switch (k) {
    case ItemKind::text: return "text";
    case ItemKind::choice: return "choice";
    case ItemKind::generate: return "generate";
  }
  return "?";
}

std::optional<ItemKind> parse_kind(const std::string& s) {
  if (s == "text") return ItemKind::text;
  if (s == "choice") return ItemKind::choice;
  if (s == "generate") return ItemKind::generate;
  return std::nullopt;
}

const std::vector<MetricInfo>& all_metrics() {
  static const std::vector<MetricInfo> table = {
      {Metric::perplexity, "perplexity", ItemKind::text, false, true, false},
      {Metric::kld, "kld", ItemKind::text, false, false, true},
      {Metric::top1, "top1", ItemKind::text, true, false, true},
      {Metric::delta_p, "delta_p", ItemKind::text, true, false, true},
      {Metric::acc, "acc", ItemKind::choice, true, false, false},
      {Metric::acc_norm, "acc_norm", ItemKind::choice, true, false, false},
      {Metric::match, "match", ItemKind::generate, true, false, false},
  };
  return table;
}

const MetricInfo& metric_info(Metric m) { return all_metrics()[static_cast<size_t>(m)]; }
const char* metric_name(Metric m) { return metric_info(m).name; }

std::optional<Metric> parse_metric(const std::string& s) {
  for (const auto& i : all_metrics())
    if (s == i.name) return i.metric;
  return std::nullopt;
}

}  // namespace vkq::eval
