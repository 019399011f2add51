// vkq_bench_gptq: GPTQ of one synthetic layer on the CPU, timed in its two
// parts: accumulating H from the calibration inputs (Gram::add) and the
// quantization itself (gptq_quantize: damping, Cholesky, lazy batches).
//   vkq_bench_gptq [--rows 4096] [--cols 4096] [--tokens 65536] [--type q4_0]
//                  [--threads N] [--act-order] [--seed S] [--json]
// Inputs are correlated the way activations are (a few shared factors, a
// handful of large channels), so H is far from diagonal; weights are
// N(0, 1/cols). Also prints the output error of GPTQ against RTN on the
// same inputs, as a check that the timed work did its job.
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ggml_types.hpp"
#include "gptq.hpp"
#include "gram.hpp"
#include "parallel.hpp"
#include "rtn.hpp"

namespace {

struct Args {
  uint64_t rows = 4096, cols = 4096, tokens = 65536, seed = 1;
  unsigned threads = 0;
  std::string type = "q4_0";
  bool act_order = false, json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Standard normals from a seeded generator (Box-Muller on raw 53-bit draws).
struct Normal {
  std::mt19937_64 rng;
  explicit Normal(uint64_t seed) : rng(seed) {}
  double uniform() { return (double(rng() >> 11) + 0.5) * 0x1.0p-53; }
  double operator()() { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--rows") a.rows = std::stoull(next());
    else if (k == "--cols") a.cols = std::stoull(next());
    else if (k == "--tokens") a.tokens = std::stoull(next());
    else if (k == "--threads") a.threads = unsigned(std::stoul(next()));
    else if (k == "--type") a.type = next();
    else if (k == "--seed") a.seed = std::stoull(next());
    else if (k == "--act-order") a.act_order = true;
    else if (k == "--json") a.json = true;
    else {
      std::fprintf(stderr, "usage: vkq_bench_gptq [--rows R] [--cols C] [--tokens N] [--type q4_0|q4_1|q8_0] "
                           "[--threads T] [--act-order] [--seed S] [--json]\n");
      return 2;
    }
  }
  const auto type = vkq::parse_ggml_type(a.type);
  if (!type || a.cols % 32) {
    std::fprintf(stderr, "--type must be q4_0, q4_1 or q8_0 and --cols a multiple of 32\n");
    return 2;
  }
  const unsigned threads = vkq::quant::worker_count(a.threads);

  // Inputs [tokens][cols]: 8 shared factors + per-channel noise, channel
  // scales log-normal with 1% of channels 10x larger.
  const auto t_gen = std::chrono::steady_clock::now();
  constexpr int kFactors = 8;
  std::vector<float> load(kFactors * a.cols), scale(a.cols), x(a.tokens * a.cols), w(a.rows * a.cols);
  {
    Normal n(a.seed);
    for (auto& v : load) v = float(n() * 0.5);
    for (uint64_t j = 0; j < a.cols; ++j) scale[j] = float(std::exp(0.5 * n()) * (j % 100 == 7 ? 10.0 : 1.0));
    for (auto& v : w) v = float(n() / std::sqrt(double(a.cols)));
  }
  vkq::quant::parallel_for((a.tokens + 4095) / 4096, threads, [&](size_t c) {
    Normal n(a.seed * 1000003 + c);
    float f[kFactors];
    for (uint64_t t = c * 4096; t < std::min<uint64_t>(a.tokens, (c + 1) * 4096); ++t) {
      for (auto& v : f) v = float(n());
      float* row = x.data() + t * a.cols;
      for (uint64_t j = 0; j < a.cols; ++j) {
        float v = float(n());
        for (int k = 0; k < kFactors; ++k) v += f[k] * load[size_t(k) * a.cols + j];
        row[j] = v * scale[j];
      }
    }
  });
  const double gen_s = seconds_since(t_gen);

  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  vkq::quant::Gram g(a.cols);
  g.add(x.data(), a.tokens, threads);
  const Eigen::MatrixXd H = g.hessian();
  const double gram_s = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  const auto r = vkq::quant::gptq_quantize(w, a.rows, a.cols, H,
                                           {.type = *type, .act_order = a.act_order, .threads = threads});
  const double gptq_s = seconds_since(t1);
  const double total_s = seconds_since(t0);
  const double cpu_s = double(std::clock() - c0) / CLOCKS_PER_SEC;

  const Eigen::MatrixXd G = g.sum();
  const auto rtn = vkq::quant::quantize_rtn(*type, w, a.rows, a.cols);
  const double e_gptq = vkq::quant::output_sse(G, w, r.q.weights, a.rows, a.cols);
  const double e_rtn = vkq::quant::output_sse(G, w, rtn.weights, a.rows, a.cols);

  if (a.json) {
    const nlohmann::ordered_json j = {{"schema", "vkq.bench.gptq/1"}, {"vkq_version", VKQ_VERSION},
                                      {"rows", a.rows}, {"cols", a.cols}, {"tokens", a.tokens},
                                      {"type", vkq::ggml_type_name(*type)}, {"act_order", a.act_order},
                                      {"threads", threads}, {"gram_s", gram_s}, {"gptq_s", gptq_s},
                                      {"factor_s", r.factor_seconds}, {"columns_s", r.columns_seconds},
                                      {"total_s", total_s}, {"cpu_s", cpu_s}, {"output_error_vs_rtn", e_gptq / e_rtn},
                                      {"damp", r.damp}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("GPTQ %s, %llu x %llu layer, %llu calibration tokens, %u threads%s (inputs generated in %.1f s)\n",
                vkq::ggml_type_name(*type), (unsigned long long)a.rows, (unsigned long long)a.cols,
                (unsigned long long)a.tokens, threads, a.act_order ? ", act-order" : "", gen_s);
    std::printf("H = 2 X X^T / n: %.2f s; quantization: %.2f s (U = chol(H^-1): %.2f s, columns: %.2f s); "
                "total %.2f s, %.2f s of CPU time\n",
                gram_s, gptq_s, r.factor_seconds, r.columns_seconds, total_s, cpu_s);
    std::printf("output error on the calibration inputs: %.3f x RTN's%s\n", e_gptq / e_rtn,
                r.warning.empty() ? "" : ("; " + r.warning).c_str());
  }
  return 0;
}
