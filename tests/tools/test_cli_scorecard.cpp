// vkq scorecard through the built CLI, on stories260K and subsets of the
// bundled eval set, on the CPU reference and the Vulkan devices (lavapipe in
// CI, with validation): the three reports and their contents, exit 1 for a
// damaged variant, exit 2 for a changed eval-set file, merge of two shards
// equal to one run over both devices, a killed run that leaves the previous
// report intact and resumes to the same report, compare, and the HTML
// report in headless Chromium (no console errors, a screenshot that is not
// blank).
#include <fstream>
#include <sstream>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/scorecard_fixtures.hpp"
#include "quant_bridge.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using vkq::test::run_cli;
namespace fs = std::filesystem;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& p) { return json::parse(slurp(p)); }

// A scorecard folder: an eval-set subset, variant files and configs.
struct Setup {
  vkq::test::TempDir dir;
  fs::path set;
  explicit Setup(size_t per_slice_kind = 1) {
    set = vkq::test::write_bundled_subset(dir.path("set"), per_slice_kind);
    vkq::test::write_stories(dir.path("q8_0.gguf"), vkq::GgmlType::Q8_0);
    vkq::test::write_stories(dir.path("q4_0.gguf"), vkq::GgmlType::Q4_0);
    vkq::test::write_noisy_stories(dir.path("noisy.gguf"), 0.2, 11);
  }
  // The reference is stories260K from the models folder, converted by the run.
  fs::path config(const std::string& name, const std::string& devices, const std::vector<std::string>& variants) const {
    std::string t = fmt::format("name = \"{}\"\neval_sets = [\"set\"]\ndevices = [{}]\n"
                                "[bootstrap]\nresamples = 200\n"
                                "[[variant]]\nname = \"f32\"\nreference = true\n"
                                "checkpoint = \"models:stories260K.bin\"\ntokenizer = \"models:tok512.bin\"\n",
                                name, devices);
    for (const auto& v : variants) t += fmt::format("[[variant]]\nname = \"{}\"\npath = \"{}.gguf\"\n", v, v);
    t += "[[gate]]\ndimension = \"fidelity\"\nmetric = \"top1\"\nmax_regression = 0.3\n"
         "[[gate]]\ndimension = \"fidelity\"\nmetric = \"kld\"\nmax_regression = 0.25\n"
         "[[gate]]\ndimension = \"fluency\"\nmax_regression_rel = 0.25\n";
    const auto p = dir.path(name + ".toml");
    std::ofstream(p) << t;
    return p;
  }
  // A cache folder per name, so runs do not share reference results unless told.
  std::string env(const std::string& cache) const { return "VKQ_CACHE_DIR=" + q(dir.path(cache)) + " "; }
};

// Rows and per-item results: what must agree between runs (no timings).
json results(const json& doc) { return {{"rows", doc["rows"]}, {"units_items", [&] {
                                           json a = json::array();
                                           for (const auto& u : doc["units"])
                                             a.push_back({u["variant"], u["device"], u["eval_set"], u["items"]});
                                           return a;
                                         }()}}; }

bool vulkan_in(const json& doc) {
  for (const auto& d : doc["devices"])
    if (d["id"] != "cpu") return true;
  return false;
}

}  // namespace

TEST_CASE("vkq scorecard: every variant on every device, three reports, exit 0", "[cli][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  Setup s;
  const auto cfg = s.config("basic", "\"cpu\", \"all\"", {"q8_0"});
  const auto out = s.dir.path("out");
  const auto r = run_cli("scorecard " + q(cfg) + " -o " + q(out), s.env("cache"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, !ContainsSubstring("validation"));
  CHECK_THAT(r.out, StartsWith("## vkq scorecard — basic: ✅ PASS"));
  CHECK(slurp(out / "scorecard.md") == r.out);
  const auto doc = read_json(out / "scorecard.json");
  CHECK(doc["schema"] == "vkq.scorecard/1");
  CHECK(doc["verdict"] == "pass");
  CHECK(doc["run"]["vkq_version"] == VKQ_VERSION);
  REQUIRE(doc["devices"].size() >= 2);
  CHECK(doc["devices"][0]["id"] == "cpu");
  for (const auto& d : doc["devices"]) {
    if (d["id"] == "cpu") continue;
    CHECK(d["uuid"].get<std::string>().size() == 32);
    CHECK_FALSE(d["driver"].get<std::string>().empty());
  }
  REQUIRE(doc["eval_sets"].size() == 1);
  CHECK(doc["eval_sets"][0]["name"] == "stories-subset");
  CHECK(doc["eval_sets"][0]["sha256"].get<std::string>().size() == 64);
  CHECK(doc["config"]["variants"].size() == 2);
  CHECK(doc["units"].size() == 2 * doc["devices"].size());
  size_t gated = 0;
  for (const auto& row : doc["rows"]) {
    for (const char* k : {"variant", "device", "eval_set", "slice", "dimension", "metric", "value", "n", "ci", "delta",
                          "delta_ci", "verdict"})
      CHECK(row.contains(k));
    gated += row["verdict"] == "pass";
  }
  CHECK(gated > 0);
  for (const auto& f : doc["fit"]) {
    CHECK(f["prefill_tokens_per_s"].get<double>() > 0);
    CHECK(f["decode_tokens_per_s"].get<double>() > 0);
    if (f["device"] == "cpu") {
      CHECK(f["predicted_peak_bytes"].is_null());
    } else {
      CHECK(f["predicted_peak_bytes"].get<uint64_t>() > 0);
      CHECK(f["measured_peak_bytes"].get<uint64_t>() > 0);
    }
  }
  CHECK(fs::is_regular_file(out / "scorecard.html"));
  CHECK(fs::is_regular_file(out / "journal.jsonl"));
  // --json prints the document.
  const auto js = run_cli("scorecard " + q(cfg) + " -o " + q(s.dir.path("out2")) + " --json", s.env("cache"));
  REQUIRE(js.exit_code == 0);
  CHECK(json::parse(js.out)["rows"] == doc["rows"]);
}

TEST_CASE("vkq scorecard with no config runs the bundled demo", "[cli][scorecard][demo]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto out = dir.path("demo");
  // A fresh cache: conversion, quantization and the reference all run, as
  // on a clean clone. Validation off, as a user runs it (the other tests
  // here run the same code paths under validation).
  const std::string env = "VKQ_CACHE_DIR=" + q(dir.path("cache")) + " VKQ_VALIDATION=0 ";
  const auto r = run_cli("scorecard -o " + q(out), env);
  if (!vkq::eval::quantizer_available()) {
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring("no quantizer"));
    SKIP("this build has no quantizer (libvkq_quant has no sources yet): the demo's recipes are refused, as checked");
  }
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, StartsWith("## vkq scorecard — stories260K demo: ✅ PASS"));
  const auto doc = read_json(out / "scorecard.json");
  CHECK(doc["variants"].size() == 7);
  CHECK(vulkan_in(doc));
  CHECK(doc["units"].size() == 7 * doc["devices"].size());
  CHECK(doc["eval_sets"][0]["name"] == "stories-v1");
  CHECK(fs::is_regular_file(out / "scorecard.md"));
  CHECK(fs::is_regular_file(out / "scorecard.html"));
  WARN("demo: " << doc["run"]["duration_s"].get<double>() << " s for " << doc["units"].size() << " units");
}

TEST_CASE("vkq scorecard: a damaged variant trips its gates and exits 1", "[cli][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  Setup s(2);
  const auto out = s.dir.path("out");
  const auto r = run_cli("scorecard " + q(s.config("damaged", "\"cpu\"", {"q8_0", "noisy"})) + " -o " + q(out),
                         s.env("cache"));
  INFO(r.err);
  REQUIRE(r.exit_code == 1);
  CHECK_THAT(r.out, StartsWith("## vkq scorecard — damaged: ❌ FAIL"));
  CHECK_THAT(r.out, ContainsSubstring("### Failed gates"));
  const auto doc = read_json(out / "scorecard.json");
  CHECK(doc["verdict"] == "fail");
  size_t noisy_fail = 0, q8_fail = 0;
  for (const auto& row : doc["rows"]) {
    noisy_fail += row["variant"] == "noisy" && row["verdict"] == "fail";
    q8_fail += row["variant"] == "q8_0" && row["verdict"] == "fail";
  }
  CHECK(noisy_fail > 0);
  CHECK(q8_fail == 0);
}

TEST_CASE("vkq scorecard: bad input exits 2 naming the file", "[cli][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  Setup s;
  const auto cfg = s.config("bad", "\"cpu\"", {"q8_0"});
  std::ofstream(s.set / "items.jsonl", std::ios::app) << "\n";
  auto r = run_cli("scorecard " + q(cfg) + " -o " + q(s.dir.path("out")), s.env("cache"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, ContainsSubstring("items.jsonl: sha256 is"));
  CHECK_THAT(r.err, ContainsSubstring("hint:"));
  CHECK_FALSE(fs::exists(s.dir.path("out/scorecard.json")));
  r = run_cli("scorecard " + q(s.dir.path("missing.toml")));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, ContainsSubstring("missing.toml"));
  std::ofstream(s.dir.path("x.toml")) << "name = \"x\"\neval_sets = [\"set\"]\nbogus = 1\n";
  r = run_cli("scorecard " + q(s.dir.path("x.toml")));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, ContainsSubstring("x.toml:3: unknown key \"bogus\""));
  r = run_cli("scorecard compare " + q(cfg) + " " + q(cfg));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, ContainsSubstring("not valid JSON"));
}

TEST_CASE("vkq scorecard merge: two shards equal one run over both devices", "[cli][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  Setup s;
  const std::vector<std::string> variants = {"q8_0", "q4_0"};
  const auto a = run_cli("scorecard " + q(s.config("m", "\"cpu\"", variants)) + " -o " + q(s.dir.path("a")), s.env("ca"));
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  // The CI way: the same config, this runner's devices on the command line.
  const auto b = run_cli("scorecard " + q(s.config("m", "\"cpu\", \"all\"", variants)) + " -o " + q(s.dir.path("b")) +
                             " --devices all",
                         s.env("cb"));
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const auto both =
      run_cli("scorecard " + q(s.config("m", "\"cpu\", \"all\"", variants)) + " -o " + q(s.dir.path("both")), s.env("cc"));
  INFO(both.err);
  REQUIRE(both.exit_code == 0);
  const auto m = run_cli("scorecard merge " + q(s.dir.path("a/scorecard.json")) + " " + q(s.dir.path("b/scorecard.json")) +
                         " -o " + q(s.dir.path("merged/all.json")));
  INFO(m.err);
  REQUIRE(m.exit_code == 0);
  const auto merged = read_json(s.dir.path("merged/all.json")), full = read_json(s.dir.path("both/scorecard.json"));
  CHECK(vulkan_in(merged));
  CHECK(merged["devices"] == full["devices"]);
  CHECK(results(merged) == results(full));
  CHECK(merged["verdict"] == full["verdict"]);
  CHECK(fs::is_regular_file(s.dir.path("merged/all.md")));
  CHECK(fs::is_regular_file(s.dir.path("merged/all.html")));
  CHECK(m.out == slurp(s.dir.path("merged/all.md")));

  // Shards over another eval-set version are refused.
  Setup other(2);
  const auto c = run_cli("scorecard " + q(other.config("m", "\"all\"", variants)) + " -o " + q(other.dir.path("c")),
                         other.env("cache"));
  REQUIRE(c.exit_code == 0);
  const auto bad = run_cli("scorecard merge " + q(s.dir.path("a/scorecard.json")) + " " +
                           q(other.dir.path("c/scorecard.json")) + " -o " + q(s.dir.path("bad.json")));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, ContainsSubstring("eval sets"));
  CHECK_FALSE(fs::exists(s.dir.path("bad.json")));
  // The same device in two shards is refused.
  const auto twice = run_cli("scorecard merge " + q(s.dir.path("a/scorecard.json")) + " " +
                             q(s.dir.path("a/scorecard.json")) + " -o " + q(s.dir.path("twice.json")));
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, ContainsSubstring("more than one shard"));
}

TEST_CASE("vkq scorecard: a killed run leaves the previous report intact; --resume finishes it the same", "[cli][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  Setup s;
  const auto cfg = s.config("resume", "\"cpu\", \"all\"", {"q8_0", "q4_0"});
  const auto out = s.dir.path("out");
  const auto first = run_cli("scorecard " + q(cfg) + " -o " + q(out), s.env("c1"));
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  std::string before_json, before_md, before_html;
  auto snapshot = [&] {
    before_json = slurp(out / "scorecard.json");
    before_md = slurp(out / "scorecard.md");
    before_html = slurp(out / "scorecard.html");
  };
  snapshot();
  const json first_results = results(json::parse(before_json));
  const auto units = read_json(out / "scorecard.json")["units"].size();
  REQUIRE(units >= 6);

  // Killed from outside at other moments (converting, running, writing): the
  // previous reports stay whole, or the run finished and wrote the same results.
  for (const char* after : {"0.3", "1.5", "4"}) {
    INFO("killed after " << after << " s");
    const auto killed =
        run_cli("scorecard " + q(cfg) + " -o " + q(out), s.env("c3") + "timeout -s KILL " + std::string(after) + " ");
    if (killed.exit_code == 0) {  // it finished in time: the same results, the new previous report
      CHECK(results(read_json(out / "scorecard.json")) == first_results);
      snapshot();
    } else {
      CHECK(killed.exit_code == 128 + 9);
      CHECK(slurp(out / "scorecard.json") == before_json);
      CHECK(slurp(out / "scorecard.md") == before_md);
      CHECK(slurp(out / "scorecard.html") == before_html);
    }
  }

  for (const int k : {1, 4}) {
    INFO("killed after " << k << " units");
    // A fresh cache: the reference runs again, so the kill lands in real work.
    const auto killed = run_cli("scorecard " + q(cfg) + " -o " + q(out),
                                s.env("c2-" + std::to_string(k)) + "VKQ_SCORECARD_KILL_AFTER=" + std::to_string(k) + " ");
    CHECK(killed.exit_code == 128 + 9);  // the shell reports SIGKILL as 137
    CHECK(slurp(out / "scorecard.json") == before_json);
    CHECK(slurp(out / "scorecard.md") == before_md);
    CHECK(slurp(out / "scorecard.html") == before_html);
    std::istringstream journal(slurp(out / "journal.jsonl"));
    size_t lines = 0;
    for (std::string line; std::getline(journal, line);) ++lines;
    CHECK(lines == size_t(k) + 1);  // the header and the units done
    for (const auto& f : vkq::test::files_in(out)) CHECK_THAT(f.filename().string(), !ContainsSubstring(".tmp-"));
  }
  {
    // A temporary report left by a kill during the write is cleared by the next run.
    std::ofstream(out / "scorecard.json.tmp-abc123") << "{";
  }
  const auto resumed = run_cli("scorecard " + q(cfg) + " -o " + q(out) + " --resume", s.env("c2-4"));
  CHECK_FALSE(fs::exists(out / "scorecard.json.tmp-abc123"));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const auto doc = read_json(out / "scorecard.json");
  CHECK(doc["run"]["resumed"] == true);
  CHECK(doc["run"]["units_reused"] == 4);
  CHECK(doc["run"]["units_run"] == units - 4);
  CHECK(results(doc) == first_results);
  // --resume on a finished run reuses everything.
  const auto again = run_cli("scorecard " + q(cfg) + " -o " + q(out) + " --resume", s.env("c2-4"));
  REQUIRE(again.exit_code == 0);
  CHECK(read_json(out / "scorecard.json")["run"]["units_run"] == 0);
}

TEST_CASE("vkq scorecard compare: paired deltas, exit 1 on a regression beyond the gates", "[cli][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  Setup s(2);
  // OLD: the variant "v" is Q8_0; NEW: "v" is the noisy file.
  const auto old_cfg = s.config("cmp", "\"cpu\"", {"q8_0"});
  auto text = slurp(old_cfg);
  const auto pos = text.find("q8_0.gguf");
  std::string new_text = text;
  new_text.replace(pos, 9, "noisy.gguf");
  for (auto* t : {&text, &new_text}) {
    const auto p = t->find("name = \"q8_0\"");
    t->replace(p, 13, "name = \"v\"");
  }
  std::ofstream(s.dir.path("old.toml")) << text;
  std::ofstream(s.dir.path("new.toml")) << new_text;
  REQUIRE(run_cli("scorecard " + q(s.dir.path("old.toml")) + " -o " + q(s.dir.path("old")), s.env("c")).exit_code == 0);
  REQUIRE(run_cli("scorecard " + q(s.dir.path("new.toml")) + " -o " + q(s.dir.path("new")), s.env("c")).exit_code == 1);
  const auto oldj = q(s.dir.path("old/scorecard.json")), newj = q(s.dir.path("new/scorecard.json"));
  const auto same = run_cli("scorecard compare " + oldj + " " + oldj);
  INFO(same.err);
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.out, ContainsSubstring("no regression"));
  const auto worse = run_cli("scorecard compare " + oldj + " " + newj);
  CHECK(worse.exit_code == 1);
  CHECK_THAT(worse.out, ContainsSubstring("**regression**"));
  const auto js = run_cli("scorecard compare " + oldj + " " + newj + " --json");
  CHECK(js.exit_code == 1);
  const auto j = json::parse(js.out);
  CHECK(j["schema"] == "vkq.scorecard-compare/1");
  CHECK(j["regressions"].get<int>() > 0);
  const auto better = run_cli("scorecard compare " + newj + " " + oldj);
  CHECK(better.exit_code == 0);
}

namespace {

struct Chromium {
  int exit_code = -1;
  std::string log;
  fs::path png;
};

// Headless Chromium renders `page` to a PNG; its log (stderr) holds the
// page's console messages as ":CONSOLE" lines.
Chromium render(const fs::path& page, const vkq::test::TempDir& dir, const std::string& tag) {
  Chromium c;
  c.png = dir.path(tag + ".png");
  const auto log = dir.path(tag + ".log");
  const std::string cmd = fmt::format(
      "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --user-data-dir={} "
      "--enable-logging=stderr --v=0 --window-size=1100,1400 --screenshot={} file://{} >{} 2>&1",
      q(dir.path(tag + "-profile")), q(c.png), page.string(), q(log));
  const int st = std::system(cmd.c_str());
  c.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  c.log = slurp(log);
  return c;
}

std::vector<double> png_stats(const fs::path& png) {
  const std::string cmd = fmt::format("python3 {}/tests/eval/png_stats.py {}", VKQ_SOURCE_DIR, q(png));
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, p);
  ::pclose(p);
  std::istringstream in(std::string(buf, n));
  std::vector<double> v(4, 0);
  for (auto& x : v) in >> x;
  return v;  // width, height, distinct colours, non-white fraction
}

}  // namespace

TEST_CASE("scorecard.html: self-contained, opens in headless Chromium without console errors, not blank",
          "[cli][scorecard][html]") {
  VKQ_REQUIRE_STORIES260K();
  if (!fs::exists("/usr/bin/chromium")) FAIL("/usr/bin/chromium is missing: run scripts/setup.sh (Debian: chromium)");
  Setup s;
  const auto out = s.dir.path("out");
  const auto r = run_cli("scorecard " + q(s.config("html", "\"cpu\", \"all\"", {"q8_0", "q4_0", "noisy"})) + " -o " + q(out),
                         s.env("cache"));
  INFO(r.err);
  REQUIRE(r.exit_code == 1);  // the noisy variant fails: the page shows failed gates too
  const std::string html = slurp(out / "scorecard.html");
  CHECK_THAT(html, StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html, ContainsSubstring("<svg"));
  CHECK_THAT(html, ContainsSubstring("Accuracy against bytes"));
  for (const char* fetch : {"src=", "href=", "url(", "@import", "<script"}) CHECK_THAT(html, !ContainsSubstring(fetch));

  const auto c = render(out / "scorecard.html", s.dir, "report");
  INFO(c.log);
  REQUIRE(c.exit_code == 0);
  CHECK_THAT(c.log, !ContainsSubstring(":CONSOLE"));
  REQUIRE(fs::is_regular_file(c.png));
  const auto st = png_stats(c.png);
  CHECK(st[0] == 1100);
  CHECK(st[2] > 50);     // colours: heatmap cells, badges, text
  CHECK(st[3] > 0.03);   // not a white page

  // The check itself: a page that logs an error is caught, and a blank page is blank.
  std::ofstream(s.dir.path("bad.html")) << "<html><body><script>console.error('scorecard-test')</script></body></html>";
  const auto bad = render(s.dir.path("bad.html"), s.dir, "bad");
  CHECK_THAT(bad.log, ContainsSubstring(":CONSOLE"));
  CHECK(png_stats(bad.png)[3] < 0.01);
}
