// Calibration data: a text file cut into windows of tokens at seeded
// offsets. The text is tokenized once without BOS; each window is BOS (when
// the vocabulary has one) followed by seq_len - 1 consecutive text tokens
// (seq_len without a BOS). Offsets come from std::mt19937_64 seeded with
// `seed`: each is (draw * starts) >> 64 for a raw 64-bit draw and the number
// of possible starts, so the windows are the same on every machine and
// standard library (uniform_int_distribution's output is not).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vkq::quant {

struct CalibrationText {
  std::string path;
  std::string text;
  std::string sha256;  // of the file's bytes, lowercase hex
};

// InputError naming the file when it cannot be read or holds no text
// (nothing but white space counts as empty).
CalibrationText read_calibration_text(const std::string& path);

// InputError (naming `source`) when the text has fewer tokens than one
// window needs, or samples / seq_len are 0.
std::vector<std::vector<int32_t>> calibration_windows(const std::vector<int32_t>& text_tokens, int32_t bos,
                                                      uint32_t samples, uint32_t seq_len, uint64_t seed,
                                                      const std::string& source);

}  // namespace vkq::quant
