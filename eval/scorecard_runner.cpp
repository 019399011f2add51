#include "scorecard_runner.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "build_identity.hpp"
#include "device.hpp"
#include "error.hpp"
#include "journal.hpp"
#include "llama_model.hpp"
#include "model_paths.hpp"
#include "reference_cache.hpp"
#include "session_factory.hpp"
#include "set_runner.hpp"
#include "sha256.hpp"
#include "tokenizer.hpp"
#include "variant_files.hpp"

namespace vkq::eval {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string iso_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hostname() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string();
}

// What a unit's results depend on. The reference's hash is in every key:
// a variant's fidelity is measured against it.
std::string unit_key(const VariantFile& v, const VariantFile& ref, const DeviceEntry& d, const EvalSet& s,
                     const std::string& build) {
  return quant::sha256_hex(fmt::format("unit|{}|{}|{}|{}|{}|{}|k{}", v.name, v.sha256, ref.sha256, d.identity(), s.sha256,
                                build, kReferenceTopK));
}

std::string reference_key(const VariantFile& ref, const DeviceEntry& d, const EvalSet& s, const std::string& build) {
  return quant::sha256_hex(fmt::format("reference|{}|{}|{}|{}|k{}", ref.sha256, d.identity(), s.sha256, build,
                                kReferenceTopK));
}

void check_same_vocab(const LlamaModel& ref, const LlamaModel& m, const std::string& ref_name, const std::string& name) {
  const Vocab a = read_vocab(ref.metadata()), b = read_vocab(m.metadata());
  if (a.tokens != b.tokens || a.bos != b.bos || a.eos != b.eos || a.add_bos != b.add_bos)
    throw InputError(fmt::format("variant \"{}\" has another vocabulary than the reference \"{}\"", name, ref_name),
                     "every variant must be the same model in another precision");
}

// One session on one device, with its load time and memory figures.
struct Session {
  OpenedSession opened;
  double load_s = 0;
  MemoryFigures memory() const {
    MemoryFigures m;
    if (opened.device && opened.vulkan) {
      m.known = true;
      m.predicted = opened.vulkan->plan().peak_bytes();
      // The device is the session's own (open_llama_session makes it), so
      // its allocation peak is what this model needed.
      m.measured = opened.device->memory_stats().peak;
    }
    return m;
  }
};

std::unique_ptr<Session> open_session(const DeviceEntry& d, const LlamaModel& m, uint32_t n_ctx) {
  auto s = std::make_unique<Session>();
  const auto t0 = Clock::now();
  s->opened = open_llama_session(d.spec, m, n_ctx);
  s->load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return s;
}

}  // namespace

Scorecard run_scorecard(const ScorecardConfig& cfg, const RunnerOptions& o) {
  const auto started = std::chrono::system_clock::now();
  const auto t0 = Clock::now();
  const std::string cache_dir = o.cache_dir.empty() ? scorecard_cache_dir() : o.cache_dir;
  auto note = [&](const std::string& s) {
    if (o.note) o.note(s);
  };

  std::vector<EvalSet> sets;
  std::vector<SetInfo> infos;
  std::set<std::string> set_names;
  for (const auto& p : cfg.eval_sets) {
    sets.push_back(load_eval_set(p));
    if (!set_names.insert(sets.back().name).second)
      throw InputError(fmt::format("{}: two eval sets are named \"{}\"", cfg.path, sets.back().name));
    infos.push_back(SetInfo::of(sets.back()));
  }
  check_gates(cfg.gates, infos);

  const std::string build = build_identity();
  const auto files = prepare_variants(cfg, cache_dir, build, note);
  std::vector<std::unique_ptr<LlamaModel>> models;
  size_t ref_i = 0;
  uint32_t ctx = UINT32_MAX;
  for (size_t i = 0; i < files.size(); ++i) {
    models.push_back(std::make_unique<LlamaModel>(LlamaModel::open(files[i].file)));
    if (files[i].reference) ref_i = i;
    ctx = std::min(ctx, models.back()->hparams().context_length);
  }
  for (size_t i = 0; i < files.size(); ++i)
    if (i != ref_i) check_same_vocab(*models[ref_i], *models[i], files[ref_i].name, files[i].name);
  const auto tok = make_tokenizer(models[ref_i]->metadata());
  const int32_t eos = tok->vocab().eos;
  std::vector<TokenizedSet> tokens;
  uint32_t n_ctx = 1;
  for (const auto& s : sets) {
    tokens.push_back(tokenize_set(s, *tok, ctx));
    n_ctx = std::max(n_ctx, tokens.back().max_tokens);
  }
  const auto devices = resolve_devices(cfg.devices);

  const std::string journal_path = (fs::path(o.out_dir) / "journal.jsonl").string();
  Journal journal = o.resume ? Journal::resume(journal_path) : Journal::start(journal_path);
  if (o.resume && journal.size()) note(fmt::format("resuming: {} units in {}", journal.size(), journal_path));

  Scorecard sc;
  sc.name = cfg.name;
  sc.gates = cfg.gates;
  sc.bootstrap = cfg.bootstrap;
  sc.accuracy = cfg.accuracy;
  sc.sets = infos;
  sc.devices = devices;
  for (const auto& f : files) sc.variants.push_back({f.name, f.source, f.sha256, f.reference, f.bytes});
  nlohmann::json vj = nlohmann::json::array();
  for (const auto& v : cfg.variants) vj.push_back(variant_to_json(v));
  sc.config = {{"path", cfg.path}, {"devices", cfg.devices}, {"eval_sets", cfg.eval_sets}, {"variants", vj}};

  const size_t total = devices.size() * files.size() * sets.size();
  const VariantFile& ref = files[ref_i];
  // Devices run side by side, one thread each (a GPU and the CPU reference,
  // or several GPUs, do not wait for one another). What they share: the
  // journal, the counters and the callbacks, under one lock; the models,
  // tokenizer and tokenized sets are read only.
  std::mutex mu;
  std::atomic<bool> stop{false};
  size_t unit_no = 0, reused = 0, ran = 0;
  std::vector<std::vector<Unit>> per_device(devices.size());
  std::vector<std::exception_ptr> errors(devices.size());

  auto run_device = [&](size_t di) {
    const DeviceEntry& d = devices[di];
    std::vector<Unit>& units = per_device[di];
    auto begin_unit = [&] {
      std::lock_guard<std::mutex> lock(mu);
      ++unit_no;
    };
    auto progress = [&](const std::string& v, const EvalSet& s, size_t item, size_t items) {
      if (!o.progress) return;
      std::lock_guard<std::mutex> lock(mu);
      o.progress({d.name, v, s.name, unit_no, total, item, items});
    };
    auto from_journal = [&](const nlohmann::json& j, size_t s) {
      units.push_back(unit_from_json(j, infos[s], journal.path()));
      std::lock_guard<std::mutex> lock(mu);
      ++reused;
    };
    auto journaled = [&](const std::string& key, Unit u, size_t s) {
      const auto j = unit_to_json(u, infos[s]);
      units.push_back(std::move(u));
      std::lock_guard<std::mutex> lock(mu);
      journal.append(key, j);
      ++ran;
      if (o.unit_done) o.unit_done(journal.size());
    };
    auto in_journal = [&](const std::string& key) -> std::optional<nlohmann::json> {
      std::lock_guard<std::mutex> lock(mu);
      const nlohmann::json* j = journal.find(key);
      return j ? std::optional<nlohmann::json>(*j) : std::nullopt;
    };

    std::vector<std::vector<TopK>> ref_topk(sets.size());
    std::unique_ptr<Session> session;
    // The reference first: its units, and its top-k where a variant still needs them.
    for (size_t s = 0; s < sets.size() && !stop; ++s) {
      begin_unit();
      const std::string key = unit_key(ref, ref, d, sets[s], build);
      bool need_topk = false;
      for (size_t v = 0; v < files.size(); ++v)
        if (v != ref_i && !in_journal(unit_key(files[v], ref, d, sets[s], build))) need_topk = true;
      const auto journal_unit = in_journal(key);
      if (journal_unit && !need_topk) {
        from_journal(*journal_unit, s);
        continue;
      }
      const std::string rkey = reference_key(ref, d, sets[s], build);
      const std::string cache_path = (fs::path(cache_dir) / "reference" / (rkey + ".bin")).string();
      std::optional<ReferenceRecord> rec;
      try {
        rec = read_reference_cache(cache_path, rkey);
      } catch (const InputError& e) {
        std::lock_guard<std::mutex> lock(mu);
        note(fmt::format("{} (running the reference again)", e.what()));
      }
      Unit u;
      if (rec) {
        u = unit_from_json(rec->unit, infos[s], cache_path);
        u.variant = ref.name;  // the cache is shared by configs that name the reference differently
        u.from_reference_cache = true;
        ref_topk[s] = std::move(rec->topk);
      } else {
        if (!session) session = open_session(d, *models[ref_i], n_ctx);
        SetRunOptions ro;
        ro.capture_topk = true;
        ro.eos = eos;
        ro.progress = [&](size_t i, size_t n) { progress(ref.name, sets[s], i, n); };
        auto run = run_set(*session->opened.session, *tok, sets[s], tokens[s], ro);
        u = Unit{ref.name, d.id, sets[s].name, std::move(run.items), run.timing, session->memory(), session->load_s, false};
        ref_topk[s] = std::move(run.topk);
        write_reference_cache(cache_path, {rkey, unit_to_json(u, infos[s]), ref_topk[s]});
      }
      if (journal_unit) {
        from_journal(*journal_unit, s);
      } else {
        journaled(key, std::move(u), s);
      }
    }
    session.reset();
    for (size_t v = 0; v < files.size() && !stop; ++v) {
      if (v == ref_i) continue;
      for (size_t s = 0; s < sets.size() && !stop; ++s) {
        begin_unit();
        const std::string key = unit_key(files[v], ref, d, sets[s], build);
        if (const auto j = in_journal(key)) {
          from_journal(*j, s);
          continue;
        }
        if (!session) session = open_session(d, *models[v], n_ctx);
        SetRunOptions ro;
        ro.reference = ref_topk[s];
        ro.eos = eos;
        ro.progress = [&](size_t i, size_t n) { progress(files[v].name, sets[s], i, n); };
        auto run = run_set(*session->opened.session, *tok, sets[s], tokens[s], ro);
        journaled(key,
                  Unit{files[v].name, d.id, sets[s].name, std::move(run.items), run.timing, session->memory(),
                       session->load_s, false},
                  s);
      }
      session.reset();
    }
  };

  std::vector<std::thread> threads;
  for (size_t di = 0; di < devices.size(); ++di)
    threads.emplace_back([&, di] {
      try {
        run_device(di);
      } catch (...) {
        errors[di] = std::current_exception();
        stop = true;  // the other devices stop after their current unit
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  for (auto& units : per_device)
    for (auto& u : units) sc.units.push_back(std::move(u));

  const auto finished = std::chrono::system_clock::now();
  sc.run = {{"vkq_version", VKQ_VERSION},
            {"vkq_build", build},
            {"started", iso_utc(started)},
            {"finished", iso_utc(finished)},
            {"duration_s", std::chrono::duration<double>(Clock::now() - t0).count()},
            {"host", hostname()},
            {"command", o.command},
            {"resumed", o.resume},
            {"units_run", ran},
            {"units_reused", reused}};
  nlohmann::json prep = nlohmann::json::array();
  for (const auto& f : files)
    prep.push_back({{"variant", f.name}, {"file", f.file}, {"cached", f.cached}, {"prepare_s", f.prepare_s}});
  sc.run["variant_files"] = prep;
  sc.derive();
  return sc;
}

}  // namespace vkq::eval
