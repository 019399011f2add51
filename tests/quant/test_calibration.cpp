// Calibration windows: BOS + consecutive text tokens at offsets from raw
// mt19937_64 draws (the same on every machine), and the refusals.
#include <random>
#include <set>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "calibration.hpp"
#include "error.hpp"
#include "support/gguf_builder.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::quant::calibration_windows;

TEST_CASE("calibration windows: BOS, consecutive tokens, seeded offsets", "[quant][calibration]") {
  std::vector<int32_t> text(100);
  for (int i = 0; i < 100; ++i) text[size_t(i)] = 1000 + i;
  // seq_len 10: BOS + 9 text tokens, 92 possible starts.
  const auto w = calibration_windows(text, 1, 50, 10, 5489, "t");
  REQUIRE(w.size() == 50);
  std::set<int32_t> starts;
  for (const auto& win : w) {
    REQUIRE(win.size() == 10);
    CHECK(win[0] == 1);
    for (size_t i = 2; i < win.size(); ++i) CHECK(win[i] == win[i - 1] + 1);
    CHECK(win[1] >= 1000);
    CHECK(win[9] <= 1099);
    starts.insert(win[1]);
  }
  CHECK(starts.size() > 30);
  // The first offset from the generator the standard defines: seeded with
  // 5489, mt19937_64's first output is 14514284786278117030, and
  // (14514284786278117030 * 92) >> 64 = 72.
  CHECK(w[0][1] == 1000 + 72);
  CHECK(calibration_windows(text, 1, 50, 10, 5489, "t") == w);
  CHECK(calibration_windows(text, 1, 50, 10, 5490, "t") != w);
  // Without BOS a window is seq_len text tokens; a text of exactly one window.
  const auto nb = calibration_windows(text, -1, 3, 100, 0, "t");
  for (const auto& win : nb) CHECK(win == text);
}

TEST_CASE("calibration windows: too short a text, zero samples or length", "[quant][calibration]") {
  const std::vector<int32_t> text(20, 5);
  CHECK_THROWS_WITH(calibration_windows(text, 1, 4, 64, 0, "calib.txt"),
                    ContainsSubstring("calib.txt: the calibration text has 20 tokens; windows of --seq-len 64 need at least 63"));
  CHECK_THROWS_AS(calibration_windows(text, 1, 0, 8, 0, "t"), vkq::InputError);
  CHECK_THROWS_AS(calibration_windows(text, 1, 4, 1, 0, "t"), vkq::InputError);
  CHECK_NOTHROW(calibration_windows(text, 1, 4, 21, 0, "t"));
}

TEST_CASE("calibration text: read, hashed; empty and missing files refused", "[quant][calibration]") {
  vkq::test::TempDir dir;
  const std::string s = "Once upon a time.";
  const auto ok = dir.write("ok.txt", {s.begin(), s.end()});
  const auto t = vkq::quant::read_calibration_text(ok.string());
  CHECK(t.text == s);
  CHECK(t.sha256.size() == 64);
  const std::string blank = " \n\t\n";
  const auto empty = dir.write("empty.txt", {blank.begin(), blank.end()});
  CHECK_THROWS_WITH(vkq::quant::read_calibration_text(empty.string()), ContainsSubstring("the calibration text is empty"));
  CHECK_THROWS_AS(vkq::quant::read_calibration_text(dir.path("absent.txt").string()), vkq::InputError);
}
