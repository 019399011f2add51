#include "reliability/eval_fuzz_seeds.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fuzz/eval_set_manifest.hpp"
#include "scorecard.hpp"
#include "sha256.hpp"
#include "support/gguf_builder.hpp"

namespace vkq::test {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using nlohmann::json;

const fs::path kEvalDir = fs::path(VKQ_SOURCE_DIR) / "eval";

std::string text_of(const fs::path& p) {
  const Bytes b = read_file(p);
  return std::string(b.begin(), b.end());
}

// `mode` (the targets' first byte) before `s`; 0: `s` alone.
Bytes bytes_of(char mode, const std::string& s) {
  const std::string t = mode ? std::string(1, mode) + s : s;
  return Bytes(t.begin(), t.end());
}

// The shortest item of each (slice, kind) of stories-v1, one per line.
std::string shortest_bundled_items() {
  std::istringstream in(text_of(kEvalDir / "sets/stories-v1/items.jsonl"));
  std::map<std::string, std::string> shortest;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = json::parse(line);
    const std::string key = j["slice"].get<std::string>() + "/" + j["kind"].get<std::string>();
    auto& s = shortest[key];
    if (s.empty() || line.size() < s.size()) s = line;
  }
  std::string out;
  for (const auto& [key, l] : shortest) out += l + "\n";
  return out;
}

// Every match rule and kind, with the fields each may carry.
const char* kRuleItems =
    R"({"id": "t1", "slice": "dialogue", "kind": "text", "dimensions": ["fidelity", "fluency"], "text": "Tom said hi."})"
    "\n"
    R"({"id": "c1", "slice": "names", "kind": "choice", "dimensions": ["grammar"], "context": "Lily saw Tom.", "choices": [" She", " He"], "answer": 0})"
    "\n"
    R"({"id": "g1", "slice": "numbers", "kind": "generate", "dimensions": ["generation"], "prompt": "One, two,", "max_tokens": 8, "stop": ".", "match": {"rule": "prefix", "value": "three"}})"
    "\n"
    R"({"id": "g2", "slice": "numbers", "kind": "generate", "dimensions": ["generation"], "prompt": "1 2", "max_tokens": 4, "match": {"rule": "exact", "value": "3"}})"
    "\n"
    R"({"id": "g3", "slice": "long", "kind": "generate", "dimensions": ["recall"], "prompt": "Who?", "max_tokens": 16, "match": {"rule": "regex", "pattern": "(Tom|Lily)\\b"}})"
    "\n"
    R"({"id": "g4", "slice": "long", "kind": "generate", "dimensions": ["generation"], "prompt": "{", "max_tokens": 32, "match": {"rule": "json", "keys": ["name"]}})"
    "\n";

const char* kMinimalConfig = R"(name = "two files"
eval_sets = ["sets/a", "sets/b"]
devices = ["cpu", 0, "llvmpipe"]

[[variant]]
name = "ref"
reference = true
path = "ref.gguf"

[[variant]]
name = "q"
path = "/abs/q.gguf"

[[gate]]
dimension = "grammar"
metric = "acc_norm"
slice = "names"
variants = ["q"]
max_regression_rel = 0.1
)";

const char* kRecipeConfig = R"(eval_sets = ["s"]
[bootstrap]
resamples = 10
confidence = 0.5
seed = 9
[report]
accuracy = "fidelity/top1"
[[variant]]
name = "ckpt"
reference = true
checkpoint = "m.bin"
tokenizer = "t.bin"
[[variant]]
name = "g"
from = "ckpt"
method = "gptq"
type = "q4_1"
calib = "c.txt"
samples = 2
seq_len = 8
seed = 3
[[gate]]
dimension = "fidelity"
max_regression = 0
)";

// A scorecard of `devices` x {ref, q} over a set of one item per kind.
std::string synthetic_scorecard(const std::vector<std::string>& devices) {
  using namespace vkq::eval;
  SetInfo set;
  set.name = "set";
  set.version = "1";
  set.sha256 = std::string(64, 'a');
  set.slices = {{"a", ""}, {"b", ""}};
  set.dimensions = {{"grammar", "", {Metric::acc_norm, Metric::acc}},
                    {"fluency", "", {Metric::perplexity}},
                    {"fidelity", "", {Metric::kld, Metric::top1}},
                    {"generation", "", {Metric::match}}};
  set.items = {{"c0", "a", ItemKind::choice, {"grammar"}},
               {"c1", "b", ItemKind::choice, {"grammar"}},
               {"t0", "a", ItemKind::text, {"fluency", "fidelity"}},
               {"g0", "b", ItemKind::generate, {"generation"}}};
  Scorecard s;
  s.name = "seed";
  s.run = {{"vkq_version", "seed"}};
  s.config = {{"devices", devices}};
  s.variants = {{"ref", "gguf", "r", true, 100}, {"q", "gguf", "q", false, 40}};
  s.sets = {set};
  s.bootstrap = {20, 0.9, 1};
  GateSpec g;
  g.dimension = "grammar";
  g.max_regression = 0.2;
  GateSpec p;
  p.dimension = "fluency";
  p.metric = Metric::perplexity;
  p.max_regression = 0.5;
  p.relative = true;
  p.slice = "a";
  s.gates = {g, p};
  for (const auto& d : devices) {
    s.devices.push_back({d, d, d, "test", "driver", "", ""});
    for (const std::string v : {"ref", "q"}) {
      Unit u{v, d, "set"};
      const bool q = v == "q";
      ItemScore c0, c1, t0, g0;
      c0.loglik = {-1, -2.5};
      c0.correct = c0.correct_norm = true;
      c1.loglik = {-3, q ? -2.0 : -4.0};
      c1.correct = c1.correct_norm = !q;
      t0.tokens = 12;
      t0.nll = q ? 14.5 : 12.25;
      t0.kld = q ? 0.75 : 0;
      t0.top1 = q ? 10 : 12;
      g0.output = q ? " three." : " three, four.";
      g0.matched = true;
      u.items = {c0, c1, t0, g0};
      u.timing = {16, 0.5, 8, 0.25};
      u.memory = {d != "cpu", 4096, 4000};
      s.units.push_back(std::move(u));
    }
  }
  s.derive();
  return to_json(s).dump();
}

}  // namespace

void add_eval_fuzz_seeds(std::map<std::string, std::map<std::string, Bytes>>& seeds) {
  auto& es = seeds["eval_set"];
  es["bundled_items.seed"] = bytes_of('\x01', shortest_bundled_items());
  es["every_rule.seed"] = bytes_of('\x01', kRuleItems);
  es["manifest_and_items.seed"] = bytes_of('\x02', fuzz::eval_set_manifest(quant::sha256_hex(kRuleItems)) + std::string(1, '\0') + kRuleItems);
  es["bundled_manifest.seed"] = bytes_of('\x04', text_of(kEvalDir / "sets/stories-v1/manifest.json"));

  auto& sc = seeds["scorecard_config"];
  sc["demo.toml"] = bytes_of(0, text_of(kEvalDir / "demo.toml"));
  sc["minimal.toml"] = bytes_of(0, kMinimalConfig);
  sc["recipe.toml"] = bytes_of(0, kRecipeConfig);

  auto& sj = seeds["scorecard_json"];
  sj["one_device.json"] = bytes_of(0, synthetic_scorecard({"dev0"}));
  sj["two_devices.json"] = bytes_of(0, synthetic_scorecard({"dev0", "cpu"}));
}

}  // namespace vkq::test
