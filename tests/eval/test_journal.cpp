// The scorecard journal: units survive a kill mid-write (a cut-short last
// line is dropped), other damage is refused.
#include <fstream>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "journal.hpp"
#include "support/gguf_builder.hpp"

using namespace vkq;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("journal: append, resume, a cut-short last line is dropped", "[eval][journal]") {
  test::TempDir dir;
  const std::string path = dir.path("out/journal.jsonl").string();
  {
    auto j = eval::Journal::start(path);
    j.append("k1", {{"a", 1}});
    j.append("k2", {{"a", 2}});
  }
  std::ofstream(path, std::ios::app) << "{\"key\": \"k3\", \"unit\": {\"a\"";  // killed while writing
  {
    auto j = eval::Journal::resume(path);
    CHECK(j.size() == 2);
    REQUIRE(j.find("k2"));
    CHECK((*j.find("k2"))["a"] == 2);
    CHECK_FALSE(j.find("k3"));
    j.append("k3", {{"a", 3}});
  }
  auto j = eval::Journal::resume(path);
  CHECK(j.size() == 3);
  CHECK((*j.find("k3"))["a"] == 3);
  // A fresh start forgets everything.
  CHECK(eval::Journal::start(path).size() == 0);
  CHECK(eval::Journal::resume(path).size() == 0);
  // No journal: resuming starts one.
  CHECK(eval::Journal::resume(dir.path("none/journal.jsonl").string()).size() == 0);
}

TEST_CASE("journal: damage before the last line is refused", "[eval][journal]") {
  test::TempDir dir;
  const std::string path = dir.path("journal.jsonl").string();
  {
    auto j = eval::Journal::start(path);
    j.append("k1", {{"a", 1}});
  }
  std::ofstream(path, std::ios::app) << "garbage\n{\"key\": \"k2\", \"unit\": {}}\n";
  CHECK_THROWS_WITH(eval::Journal::resume(path), ContainsSubstring("journal.jsonl:3: damaged journal line"));
  std::ofstream(path, std::ios::trunc) << "{\"schema\": \"other\"}\n";
  CHECK_THROWS_WITH(eval::Journal::resume(path), ContainsSubstring("not a vkq scorecard journal"));
}
