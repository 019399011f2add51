#include "calibration.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "error.hpp"
#include "sha256.hpp"

namespace vkq::quant {
namespace {
__extension__ typedef unsigned __int128 u128;  // (draw * starts) >> 64 without overflow
}  // namespace

CalibrationText read_calibration_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read the calibration text", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  CalibrationText t{path, ss.str(), {}};
  if (in.bad()) throw InputError(fmt::format("{}: cannot read the calibration text", path));
  if (std::all_of(t.text.begin(), t.text.end(), [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }))
    throw InputError(fmt::format("{}: the calibration text is empty", path),
                     "give a text file of the kind the model was trained on (quant/data/calibration.txt for stories models)");
  t.sha256 = sha256_hex(t.text);
  return t;
}

std::vector<std::vector<int32_t>> calibration_windows(const std::vector<int32_t>& tokens, int32_t bos,
                                                      uint32_t samples, uint32_t seq_len, uint64_t seed,
                                                      const std::string& source) {
  if (samples == 0) throw InputError("--samples must be at least 1");
  const uint32_t from_text = bos >= 0 ? seq_len - 1 : seq_len;
  if (seq_len < 2) throw InputError(fmt::format("--seq-len {} is too short: a window needs at least 2 tokens", seq_len));
  if (tokens.size() < from_text)
    throw InputError(fmt::format("{}: the calibration text has {} tokens; windows of --seq-len {} need at least {}",
                                 source, tokens.size(), seq_len, from_text),
                     "use a longer text or a smaller --seq-len");
  const uint64_t starts = tokens.size() - from_text + 1;
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int32_t>> windows(samples);
  for (auto& w : windows) {
    const uint64_t off = uint64_t((static_cast<u128>(rng()) * starts) >> 64);
    if (bos >= 0) w.push_back(bos);
    w.insert(w.end(), tokens.begin() + std::ptrdiff_t(off), tokens.begin() + std::ptrdiff_t(off + from_text));
  }
  return windows;
}

}  // namespace vkq::quant
