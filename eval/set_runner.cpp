#include "set_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "choice_score.hpp"
#include "error.hpp"
#include "match_rule.hpp"
#include "sampler.hpp"

namespace vkq::eval {
namespace {

constexpr size_t kChunk = 64;
// Per-token values are clamped so that a broken variant (NaN or infinite
// logits) gives large, finite numbers that a report can hold and a gate
// catches, instead of NaN.
constexpr double kMaxTokenValue = 1000;

double clamp_value(double v) { return std::isfinite(v) ? std::min(v, kMaxTokenValue) : kMaxTokenValue; }

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The session plus what its KV cache holds, and the time spent in it.
class CachedSession {
 public:
  CachedSession(LlamaSession& s, RunTiming& timing) : s_(s), timing_(timing) {}

  // Logits at positions first..last of `seq` (first <= last < seq.size()),
  // handed to fn(pos, logits) in order. Afterwards the cache holds seq[0..last].
  template <class Fn>
  void logits(std::span<const int32_t> seq, size_t first, size_t last, Fn&& fn) {
    const size_t keep = std::min(common_prefix(cached_, seq.subspan(0, last + 1)), first);
    cached_.resize(keep);
    const size_t n_vocab = s_.n_vocab();
    for (size_t p = keep; p <= last;) {
      const size_t n = std::min(kChunk, last + 1 - p);
      const bool want = p + n > first;
      const auto t0 = Clock::now();
      const auto out = s_.prefill(seq.subspan(p, n), static_cast<uint32_t>(p), want && n > 1);
      timing_.prefill_s += seconds_since(t0);
      timing_.prefill_tokens += n;
      cached_.insert(cached_.end(), seq.begin() + static_cast<ptrdiff_t>(p), seq.begin() + static_cast<ptrdiff_t>(p + n));
      if (want) {
        const size_t rows = out.size() / n_vocab;  // n rows, or 1 (the last) when n == 1
        for (size_t r = 0; r < rows; ++r) {
          const size_t pos = p + n - rows + r;
          if (pos >= first) fn(pos, std::span<const float>(out.data() + r * n_vocab, n_vocab));
        }
      }
      p += n;
    }
  }

  std::vector<float> decode(int32_t token, size_t pos) {
    cached_.resize(pos);
    const auto t0 = Clock::now();
    auto out = s_.decode(token, static_cast<uint32_t>(pos));
    timing_.decode_s += seconds_since(t0);
    timing_.decode_tokens += 1;
    cached_.push_back(token);
    return out;
  }

  uint32_t n_ctx() const { return s_.n_ctx(); }

 private:
  LlamaSession& s_;
  RunTiming& timing_;
  std::vector<int32_t> cached_;
};

ItemScore score_text(CachedSession& cs, const TokenizedItem& ti, const SetRunOptions& o, size_t& row,
                     std::vector<TopK>* capture) {
  ItemScore sc;
  const auto& t = ti.tokens;
  sc.tokens = static_cast<uint32_t>(t.size() - 1);
  cs.logits(t, 0, t.size() - 2, [&](size_t pos, std::span<const float> l) {
    sc.nll += clamp_value(-token_logprob(l, t[pos + 1]));
    if (capture) capture->push_back(top_k(l));
    if (o.reference.empty()) {
      sc.top1 += 1;  // the reference against itself
    } else {
      const Fidelity f = fidelity_topk(o.reference[row], l);
      sc.kld += clamp_value(f.kld);
      sc.top1 += f.same_top ? 1 : 0;
      sc.delta_p += std::isfinite(f.delta_p) ? f.delta_p : -1;
    }
    ++row;
  });
  return sc;
}

ItemScore score_choice(CachedSession& cs, const EvalItem& it, const TokenizedItem& ti) {
  ItemScore sc;
  std::vector<size_t> bytes;
  for (const auto& op : ti.options) {
    double ll = 0;
    cs.logits(op.seq, op.first - 1, op.seq.size() - 2,
              [&](size_t pos, std::span<const float> l) { ll -= clamp_value(-token_logprob(l, op.seq[pos + 1])); });
    sc.loglik.push_back(ll);
    bytes.push_back(op.bytes);
  }
  const ChoicePick p = pick_choice(sc.loglik, bytes);
  sc.correct = p.best == it.answer;
  sc.correct_norm = p.best_norm == it.answer;
  return sc;
}

ItemScore score_generate(CachedSession& cs, const Tokenizer& tok, const EvalItem& it, const TokenizedItem& ti,
                         int32_t eos) {
  ItemScore sc;
  const auto& prompt = ti.tokens;
  std::vector<float> last;
  cs.logits(prompt, prompt.size() - 1, prompt.size() - 1,
            [&](size_t, std::span<const float> l) { last.assign(l.begin(), l.end()); });
  size_t pos = prompt.size();
  for (uint32_t n = 0; n < it.max_tokens; ++n) {
    const int32_t next = argmax(last);
    if (next == eos) break;
    sc.output += tok.token_to_piece(next);
    if (!it.stop.empty() && sc.output.find(it.stop) != std::string::npos) break;
    if (n + 1 == it.max_tokens || pos >= cs.n_ctx()) break;
    last = cs.decode(next, pos++);
  }
  sc.matched = matches(it.match, sc.output, it.stop);
  // Byte tokens can leave a partial UTF-8 sequence; reports and the journal
  // hold valid UTF-8 (invalid bytes become U+FFFD), after matching on the bytes.
  sc.output = nlohmann::json::parse(nlohmann::json(sc.output).dump(-1, ' ', false,
                                                                     nlohmann::json::error_handler_t::replace))
                  .get<std::string>();
  return sc;
}

}  // namespace

TokenizedSet tokenize_set(const EvalSet& set, const Tokenizer& tok, uint32_t context_length) {
  TokenizedSet ts;
  const bool bos = tok.vocab().add_bos;
  auto fits = [&](const EvalItem& it, size_t n) {
    if (n > context_length)
      throw InputError(fmt::format("{}: {} needs {} tokens; the model's context holds {}", set.name, it.where(), n,
                                   context_length));
    ts.max_tokens = std::max(ts.max_tokens, static_cast<uint32_t>(n));
  };
  for (const auto& it : set.items) {
    TokenizedItem ti;
    switch (it.kind) {
      case ItemKind::text:
        ti.tokens = tok.encode(it.text, bos);
        if (ti.tokens.size() < 2)
          throw InputError(fmt::format("{}: {}: the text is a single token; nothing to score", set.name, it.where()));
        fits(it, ti.tokens.size());
        ts.text_positions += ti.tokens.size() - 1;
        break;
      case ItemKind::choice: {
        const auto ctx = tok.encode(it.context, bos);
        for (const auto& c : it.choices) {
          TokenizedItem::Option op;
          op.seq = tok.encode(it.context + c, bos);
          // Usually the context's tokens are a prefix; where the option's
          // first bytes merge with the context's last token, the option
          // starts where the two tokenizations part.
          op.first = common_prefix(ctx, op.seq);
          op.bytes = c.size();
          if (op.first == 0 || op.first >= op.seq.size())
            throw InputError(fmt::format("{}: {}: option \"{}\" leaves no context or no option tokens", set.name,
                                         it.where(), c));
          fits(it, op.seq.size());
          ti.options.push_back(std::move(op));
        }
        break;
      }
      case ItemKind::generate:
        ti.tokens = tok.encode(it.prompt, bos);
        if (ti.tokens.empty())
          throw InputError(fmt::format("{}: {}: the prompt is empty and the vocabulary adds no BOS", set.name, it.where()));
        fits(it, std::min<size_t>(ti.tokens.size() + it.max_tokens, context_length));
        if (ti.tokens.size() >= context_length)
          throw InputError(fmt::format("{}: {}: the prompt fills the model's context of {}", set.name, it.where(),
                                       context_length));
        break;
    }
    ts.items.push_back(std::move(ti));
  }
  return ts;
}

SetRun run_set(LlamaSession& session, const Tokenizer& tok, const EvalSet& set, const TokenizedSet& tokens,
               const SetRunOptions& opts) {
  if (tokens.items.size() != set.items.size()) throw InputError("run_set: the set was tokenized for another set");
  if (!opts.reference.empty() && opts.reference.size() != tokens.text_positions)
    throw InputError(fmt::format("{}: the reference has {} scored positions; this tokenization has {}", set.name,
                                 opts.reference.size(), tokens.text_positions));
  SetRun run;
  if (opts.capture_topk) run.topk.reserve(tokens.text_positions);
  CachedSession cs(session, run.timing);
  size_t row = 0;
  for (size_t i = 0; i < set.items.size(); ++i) {
    const auto& it = set.items[i];
    const auto& ti = tokens.items[i];
    switch (it.kind) {
      case ItemKind::text:
        run.items.push_back(score_text(cs, ti, opts, row, opts.capture_topk ? &run.topk : nullptr));
        break;
      case ItemKind::choice: run.items.push_back(score_choice(cs, it, ti)); break;
      case ItemKind::generate: run.items.push_back(score_generate(cs, tok, it, ti, opts.eos)); break;
    }
    if (opts.progress) opts.progress(i + 1, set.items.size());
  }
  return run;
}

}  // namespace vkq::eval
