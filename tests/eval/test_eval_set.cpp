// Eval sets: the bundled stories-v1 set loads and has what the issue asks
// (>= 150 items, >= 4 slices, all three kinds, a long-context slice past 256
// tokens); broken sets are refused naming the file and line.
#include <fstream>
#include <map>
#include <set>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "eval/scorecard_fixtures.hpp"
#include "eval_set.hpp"
#include "set_runner.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"
#include "tokenizer.hpp"

using namespace vkq;
using Catch::Matchers::ContainsSubstring;
using nlohmann::json;

namespace {

json text_item(const std::string& id, const std::string& slice = "a") {
  return {{"id", id}, {"slice", slice}, {"kind", "text"}, {"dimensions", {"fidelity", "fluency"}}, {"text", "Once upon a time."}};
}

std::string load_error(const std::filesystem::path& dir) {
  try {
    eval::load_eval_set(dir.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the bundled stories-v1 set: 150+ items, 4+ slices, every kind", "[eval][evalset]") {
  const auto set = eval::load_eval_set(test::bundled_set_dir().string());
  CHECK(set.name == "stories-v1");
  CHECK(set.items.size() >= 150);
  CHECK(set.slices.size() >= 4);
  std::map<std::string, std::set<eval::ItemKind>> kinds;
  std::set<eval::MatchRule> rules;
  for (const auto& it : set.items) {
    kinds[it.slice].insert(it.kind);
    if (it.kind == eval::ItemKind::generate) rules.insert(it.match.rule);
  }
  CHECK(kinds.size() == set.slices.size());
  for (const auto& [slice, k] : kinds) {
    INFO(slice);
    CHECK(k.size() == 3);  // text, choice and generate in every slice
  }
  CHECK(rules.count(eval::MatchRule::prefix));
  CHECK(rules.count(eval::MatchRule::regex));
  CHECK(set.sha256.size() == 64);
}

TEST_CASE("the bundled set's long-context slice goes past 256 tokens", "[eval][evalset]") {
  VKQ_REQUIRE_STORIES260K();
  const auto set = eval::load_eval_set(test::bundled_set_dir().string());
  const auto m = test::load_stories260k(GgmlType::F32);
  const auto tok = make_tokenizer(m.model->metadata());
  const auto ts = eval::tokenize_set(set, *tok, m.model->hparams().context_length);
  size_t long_texts = 0;
  for (size_t i = 0; i < set.items.size(); ++i) {
    const auto& it = set.items[i];
    if (it.slice != "long-context") continue;
    const size_t n = it.kind == eval::ItemKind::choice ? ts.items[i].options[0].seq.size() : ts.items[i].tokens.size();
    INFO(it.id << ": " << n << " tokens");
    CHECK(n > 256);
    long_texts += it.kind == eval::ItemKind::text;
  }
  CHECK(long_texts >= 4);
  CHECK(ts.max_tokens <= 512);
}

TEST_CASE("eval set: a data file whose hash differs from the manifest is refused", "[eval][evalset]") {
  test::TempDir dir;
  const auto d = test::write_eval_set(dir.path("s"), {text_item("t1"), text_item("t2")}, test::test_manifest("s"));
  std::ofstream(d / "items.jsonl", std::ios::app) << text_item("t3").dump() << "\n";
  const auto err = load_error(d);
  CHECK_THAT(err, ContainsSubstring("items.jsonl"));
  CHECK_THAT(err, ContainsSubstring("sha256"));
  CHECK_THAT(err, ContainsSubstring("manifest.json"));
}

TEST_CASE("eval set: bad items are refused naming the file and line", "[eval][evalset]") {
  test::TempDir dir;
  const auto m = test::test_manifest("s");
  auto err_for = [&](const std::vector<json>& items) { return load_error(test::write_eval_set(dir.path("s"), items, m)); };

  auto err = err_for({text_item("t1"), text_item("t1")});
  CHECK_THAT(err, ContainsSubstring("items.jsonl:2"));
  CHECK_THAT(err, ContainsSubstring("duplicate id \"t1\""));

  auto bad_kind = text_item("t2");
  bad_kind["kind"] = "essay";
  err = err_for({text_item("t1"), bad_kind});
  CHECK_THAT(err, ContainsSubstring("items.jsonl:2"));
  CHECK_THAT(err, ContainsSubstring("unknown kind \"essay\""));

  err = err_for({text_item("t1", "nope")});
  CHECK_THAT(err, ContainsSubstring("items.jsonl:1"));
  CHECK_THAT(err, ContainsSubstring("unknown slice \"nope\""));

  auto typo = text_item("t1");
  typo["txet"] = "x";
  CHECK_THAT(err_for({typo}), ContainsSubstring("unknown key \"txet\""));

  auto wrong_dim = text_item("t1");
  wrong_dim["dimensions"] = {"grammar"};  // choice metrics only
  CHECK_THAT(err_for({wrong_dim}), ContainsSubstring("whose metrics no text item produces"));

  json choice = {{"id", "c1"}, {"slice", "a"}, {"kind", "choice"}, {"dimensions", {"grammar"}},
                 {"context", "The dog"}, {"choices", {" ran.", " run."}}, {"answer", 2}};
  CHECK_THAT(err_for({choice}), ContainsSubstring("\"answer\" is 2; expected 0 .. 1"));

  json gen = {{"id", "g1"}, {"slice", "b"}, {"kind", "generate"}, {"dimensions", {"generation"}}, {"prompt", "Once"},
              {"max_tokens", 4}, {"match", {{"rule", "regex"}, {"pattern", "(unclosed"}}}};
  err = err_for({text_item("t1"), gen});
  CHECK_THAT(err, ContainsSubstring("items.jsonl:2"));
  CHECK_THAT(err, ContainsSubstring("not a valid regular expression"));
  gen["match"] = {{"rule", "fuzzy"}, {"value", "x"}};
  CHECK_THAT(err_for({gen}), ContainsSubstring("unknown match rule \"fuzzy\""));

  {
    const auto d = test::write_eval_set(dir.path("s2"), {text_item("t1")}, m);
    std::ofstream(d / "manifest.json") << "{\"schema\": \"vkq.evalset/1\", ";
    CHECK_THAT(load_error(d), ContainsSubstring("not valid JSON"));
  }
  {
    auto escape = m;
    const auto d = test::write_eval_set(dir.path("s3"), {text_item("t1")}, m);
    auto mj = json::parse(std::ifstream(d / "manifest.json"));
    mj["files"][0]["path"] = "../../etc/passwd";
    std::ofstream(d / "manifest.json") << mj.dump();
    CHECK_THAT(load_error(d), ContainsSubstring("must be relative and inside the set's folder"));
  }
}

TEST_CASE("eval set: a valid set of every kind parses", "[eval][evalset]") {
  test::TempDir dir;
  const json gen = {{"id", "g1"}, {"slice", "b"}, {"kind", "generate"}, {"dimensions", {"generation", "recall"}},
                    {"prompt", "Once"}, {"max_tokens", 4}, {"stop", "."}, {"match", {{"rule", "json"}, {"keys", {"a"}}}}};
  const json choice = {{"id", "c1"}, {"slice", "a"}, {"kind", "choice"}, {"dimensions", {"grammar"}},
                       {"context", "The dog"}, {"choices", {" ran.", " run."}}, {"answer", 0}};
  const auto d = test::write_eval_set(dir.path("s"), {text_item("t1"), choice, gen}, test::test_manifest("s"));
  const auto set = eval::load_eval_set(d.string());
  REQUIRE(set.items.size() == 3);
  CHECK(set.items[1].choices.size() == 2);
  CHECK(set.items[2].match.rule == eval::MatchRule::json);
  CHECK(set.items[2].match.keys == std::vector<std::string>{"a"});
  CHECK(set.items[2].stop == ".");
  CHECK(set.items[2].where() == "items.jsonl:3 (id g1)");
}
