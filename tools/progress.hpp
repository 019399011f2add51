// One-line progress displays for long CLI work (synth, convert: bytes;
// quantize, perplexity: a fraction and what is being done): shown on stderr
// only when stderr is a terminal, so scripts and CI logs stay quiet.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace vkq::cli {

class ProgressLine {
 public:
  explicit ProgressLine(std::string label) : label_(std::move(label)), tty_(::isatty(::fileno(stderr)) == 1) {}
  ~ProgressLine() {
    if (shown_) std::fputc('\n', stderr);
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // A progress callback for the libraries (done_bytes, total_bytes) that
  // updates this line; the object must outlive it.
  std::function<void(uint64_t, uint64_t)> reporter() {
    return [this](uint64_t done, uint64_t total) { update(done, total); };
  }
  uint64_t done() const { return done_; }  // the last count reported

  // Redrawn at most five times a second, and always at the end.
  void update(uint64_t done, uint64_t total) {
    done_ = done;
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    std::fprintf(stderr, "\r%s: %.2f / %.2f GiB (%3.0f%%)", label_.c_str(), double(done) / gib, double(total) / gib,
                 total ? 100.0 * double(done) / double(total) : 100.0);
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool tty_;
  bool shown_ = false;
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

// "label: 42% what" for work measured as a fraction (quantize, perplexity).
class FractionLine {
 public:
  explicit FractionLine(std::string label) : label_(std::move(label)), tty_(::isatty(::fileno(stderr)) == 1) {}
  ~FractionLine() {
    if (shown_) std::fputc('\n', stderr);
  }
  FractionLine(const FractionLine&) = delete;
  FractionLine& operator=(const FractionLine&) = delete;

  // Redrawn at most five times a second (and when `what` changes), and always at 100%.
  void update(double fraction, const std::string& what) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1 && what == what_ && shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    what_ = what;
    std::fprintf(stderr, "\r\033[K%s: %3.0f%% %s", label_.c_str(), 100.0 * fraction, what.c_str());
    std::fflush(stderr);
  }

 private:
  std::string label_, what_;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace vkq::cli
