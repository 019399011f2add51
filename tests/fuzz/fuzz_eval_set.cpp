// libFuzzer target for the eval-set reader (eval/eval_set.hpp): manifest.json
// and its JSONL item files. Input: one mode byte, then
//   mode even: a manifest, a NUL byte, the data file (every path the manifest
//              names reads as these bytes): the manifest's own checks, the
//              hash check, and items when the fuzzer matches a hash;
//   mode odd:  a data file of items under a fixed manifest (stories-v1's
//              slices and dimensions) whose sha256 is computed here, so
//              every item line reaches the item parser.
// Refused with InputError, or accepted; an accepted set
//   - has at most kMaxItems items with unique ids, each in a declared slice,
//     with at least one dimension, every one declared;
//   - choice items: 2..kMaxChoices choices and an answer among them;
//     generate items: 1..kMaxGenerateTokens tokens, a compiled regex for
//     the regex rule, and its match rule runs on a short continuation;
//   - hashes to the sha256 of the manifest's bytes;
//   - gives the report's SetInfo with the same items.
// Seeds: tests/fuzz/corpus/eval_set/ (written by
// tests/reliability/eval_fuzz_seeds.cpp from the bundled stories-v1 set).
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "eval/stories_dimensions.hpp"
#include "eval_set.hpp"
#include "fuzz/eval_set_manifest.hpp"
#include "fuzz/fuzz_target.hpp"
#include "match_rule.hpp"
#include "scorecard.hpp"
#include "sha256.hpp"

// The manifest of mode odd: stories-v1's slices and dimensions, one data
// file (tests/reliability/eval_fuzz_seeds.cpp writes seeds with it too).
std::string vkq::fuzz::eval_set_manifest(const std::string& items_sha256) {
  nlohmann::json m = {{"schema", "vkq.evalset/1"}, {"name", "fuzz"}, {"version", "1"}, {"description", "fuzz"}};
  m["files"] = {{{"path", "items.jsonl"}, {"sha256", items_sha256}}};
  m["slices"] = nlohmann::json::array();
  for (const char* s : {"dialogue", "names", "numbers", "long"}) m["slices"].push_back({{"name", s}, {"description", ""}});
  m["dimensions"] = vkq::test::stories_v1_dimensions();
  return m.dump();
}

VKQ_FUZZ_TARGET(eval_set) {
  using namespace vkq;
  using namespace vkq::eval;
  if (size < 1) return;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string manifest, file;
  if (data[0] % 2 == 0) {
    const size_t nul = rest.find('\0');
    manifest = std::string(rest.substr(0, nul));
    if (nul != std::string_view::npos) file = std::string(rest.substr(nul + 1));
  } else {
    file = std::string(rest);
    manifest = fuzz::eval_set_manifest(quant::sha256_hex(file));
  }
  EvalSet set;
  try {
    set = parse_eval_set(manifest, [&](const std::string&) { return file; }, "fuzz");
  } catch (const InputError&) {
    return;
  }
  expect(set.sha256 == quant::sha256_hex(manifest), "the set's hash is the manifest's sha256");
  expect(set.items.size() <= kMaxItems, "at most kMaxItems items");
  std::set<std::string> ids;
  for (const auto& it : set.items) {
    expect(ids.insert(it.id).second, "ids are unique");
    expect(set.has_slice(it.slice), "an item's slice is declared");
    expect(!it.dimensions.empty(), "an item has a dimension");
    for (const auto& d : it.dimensions) expect(set.find_dimension(d) != nullptr, "an item's dimensions are declared");
    if (it.kind == ItemKind::choice) {
      expect(it.choices.size() >= 2 && it.choices.size() <= kMaxChoices, "2..16 choices");
      expect(it.answer < it.choices.size(), "the answer is one of the choices");
    } else if (it.kind == ItemKind::generate) {
      expect(it.max_tokens >= 1 && it.max_tokens <= kMaxGenerateTokens, "1..256 tokens to generate");
      expect(it.match.rule != MatchRule::regex || it.match.re != nullptr, "a regex rule holds its compiled pattern");
      (void)matches(it.match, " Lily said \"hi\" to Tom. {\"name\": \"Tom\", \"age\": 3}\n", it.stop);
    }
  }
  const SetInfo info = SetInfo::of(set);
  expect(info.items.size() == set.items.size(), "SetInfo has every item");
  for (size_t i = 0; i < info.items.size(); ++i)
    expect(info.items[i].id == set.items[i].id && info.items[i].kind == set.items[i].kind, "SetInfo keeps the items");
}
