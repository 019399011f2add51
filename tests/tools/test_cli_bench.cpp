// `vkq bench matmul` checks every kernel it times against the CPU reference;
// here that check must pass for each weight type at n = 1, 7 and 64, under the
// device profile the test process runs with (tests/CMakeLists.txt re-runs
// "[kernel]" tests under no-subgroup-arith, no-int-dot, no-fp16,
// no-int8-storage, shared-mem=16384 and the presets).
#include <cmath>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <nlohmann/json.hpp>

#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"

namespace {
// Each (arguments, words) case: `vkq PREFIX ARGUMENTS SUFFIX` is refused
// with exit 2 and an error that holds the words.
void check_refused(const std::string& prefix, const std::vector<std::pair<std::string, std::string>>& cases,
                   const std::string& suffix = "") {
  for (const auto& [args, what] : cases) {
    const auto bad = vkq::test::run_cli(prefix + " " + args + suffix);
    INFO(args << ": " << bad.err);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find(what) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("vkq bench matmul reports max_rel_err within tolerance", "[gpu][kernel][cli]") {
  const std::string type = GENERATE("f16", "q8_0", "q4_0", "q4_1");
  const int n = GENERATE(1, 7, 64);
  // Small shapes keep lavapipe fast; --copy-mib keeps the bandwidth reference short.
  const auto r = vkq::test::run_cli("bench matmul --type " + type + " --m 33 --k 256 --n " + std::to_string(n) +
                                    " --runs 20 --copy-mib 8 --json");
  INFO(type << " n=" << n << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("validation") == std::string::npos);  // the child runs with VKQ_VALIDATION too
  const auto j = nlohmann::json::parse(r.out)["matmul"];
  INFO(j.dump());
  CHECK(j["passed"] == true);
  CHECK(j["max_rel_err"].get<double>() <= j["tolerance"].get<double>());
  CHECK(j["median_us"].get<double>() > 0);
  CHECK(!j["variant"].get<std::string>().empty());
}

TEST_CASE("vkq bench copy reports bandwidth", "[gpu][cli]") {
  const auto r = vkq::test::run_cli("bench copy --mib 8 --runs 5 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out)["copy"];
  CHECK(j["gbps"].get<double>() > 0);
  CHECK(j["shader_gbps"].get<double>() > 0);
  CHECK(j["transfer_gbps"].get<double>() > 0);
}

TEST_CASE("vkq bench chain times dependent memory-bound dispatches", "[gpu][cli]") {
  // Two layers of (nothing, 1 MiB, 64 KiB): 6 dispatches reading 2.125 MiB.
  const auto r = vkq::test::run_cli("bench chain --sizes 0,1Mi,64Ki --layers 2 --runs 3 --copy-mib 8 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("validation") == std::string::npos);
  const auto j = nlohmann::json::parse(r.out)["chain"];
  INFO(j.dump());
  CHECK(j["dispatches"] == 6);
  CHECK(j["bytes"] == 2 * ((1u << 20) + (64u << 10)));
  // Host time less an empty submit's: on lavapipe under load (a 2-core CI
  // machine) the empty submit can take longer than this tiny chain, and the
  // difference is clamped at 0, so only its consistency is checked here.
  const double us = j["median_us"].get<double>();
  CHECK(us >= 0);
  CHECK(j["submit_us"].get<double>() > 0);
  CHECK(j["timestamp_us"].get<double>() > 0);
  CHECK(j["us_per_dispatch"].get<double>() == us / 6);
  CHECK((j["roofline_share"].get<double>() > 0) == (us > 0));
  REQUIRE(j["entry_us"].size() == 3);
  for (const auto& e : j["entry_us"]) CHECK(e.get<double>() > 0);
  const auto unbarriered = vkq::test::run_cli("bench chain --sizes 1M --layers 3 --runs 1 --copy-mib 8 --no-barriers");
  INFO(unbarriered.err);
  CHECK(unbarriered.exit_code == 0);
  CHECK(unbarriered.out.find("3 dispatches without barriers") != std::string::npos);
  check_refused("bench chain --copy-mib 8", {{"--sizes 12Q", "is not a size"},
                                             {"--sizes=-3", "is not a size"},
                                             {"--sizes 5Gi", "above the largest buffer"}});
}

TEST_CASE("vkq bench chain --linked: dispatch-chain links instead of barriers", "[gpu][cli]") {
  // Every dispatch but the first waits on the one before's flag (the first
  // follows the flags' fill and keeps its barrier). On lavapipe each
  // dispatch runs to its end before the next starts, so the waits pass at
  // once; what is checked is that the links are recorded, the kernels run
  // under validation in every flag layout, and bad settings are refused.
  if (vkq::test::sync_validation()) SKIP("synchronization validation does not model waits on arrival counts");
  for (const std::string flags : {"", "--replicas 1 --spacing 1 --backoff 8 --acquire-load", "--replicas 4 --spacing 64 --early --groups 3"}) {
    const auto r = vkq::test::run_cli("bench chain --sizes 0,1Mi,64Ki --layers 2 --runs 2 --copy-mib 8 --linked --json " + flags);
    INFO(flags << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("validation") == std::string::npos);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["chain"]["dispatches"] == 6);
    CHECK(j["chain"]["links"] == 5);
    CHECK(j["options"]["linked"] == true);
  }
  const auto text = vkq::test::run_cli("bench chain --sizes 1M --layers 3 --runs 1 --copy-mib 8 --linked");
  INFO(text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("3 dispatches linked (2 links, 1 x 32 words per flag, backoff 0)") != std::string::npos);
  check_refused("bench chain --copy-mib 8 --sizes 1M", {{"--linked --no-barriers", "cannot go with --no-barriers"},
                                                       {"--linked --replicas 16 --spacing 32", "16 replicas x 32 words per flag"},
                                                       {"--groups 70000", "--groups"}});
}

TEST_CASE("vkq bench chain --persistent: one dispatch with grid-wide waits", "[gpu][cli]") {
  // One workgroup (resident on any device) walks 6 reads with a wait
  // between two; with and without the next read's first loads issued
  // before each wait.
  for (const std::string pf : {"0", "2"}) {
    const auto r = vkq::test::run_cli("bench chain --sizes 0,1Mi,64Ki --layers 2 --runs 2 --copy-mib 8 --persistent "
                                      "--groups 1 --json --prefetch " + pf);
    INFO(pf << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("validation") == std::string::npos);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["chain"]["dispatches"] == 6);
    CHECK(j["chain"]["bytes"] == 2 * ((1u << 20) + (64u << 10)));
    CHECK(j["chain"]["entry_us"].empty());  // one dispatch: no span per read
    CHECK(j["options"]["persistent"] == true);
    CHECK(j["options"]["prefetch"] == std::stoi(pf));
  }
  // More workgroups than any device keeps resident: a wait gives up (no
  // hang) and the run says why, with the device-error exit code.
  const auto stuck = vkq::test::run_cli("bench chain --sizes 1Mi --layers 2 --runs 1 --copy-mib 8 --persistent --groups 4096");
  INFO(stuck.err);
  CHECK(stuck.exit_code == 3);
  CHECK(stuck.err.find("were not all resident at once") != std::string::npos);
  check_refused("bench chain --copy-mib 8 --sizes 1M", {{"--persistent", "needs --groups"},
                                                       {"--persistent --groups 2 --linked", "cannot go with --linked"},
                                                       {"--prefetch 2", "--prefetch goes with --persistent"},
                                                       {"--persistent --groups 2 --prefetch 9", "--prefetch"}});
}

TEST_CASE("vkq bench model: a file and synthetic weights from a config.json", "[gpu][cli][bench_model]") {
  vkq::test::TempDir dir;
  // A small llama (GQA, untied output) as a Hugging Face config.json.
  const auto cfg = dir.path("config.json");
  {
    std::ofstream f(cfg);
    f << R"({"model_type": "llama", "hidden_size": 128, "intermediate_size": 352, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000,
             "max_position_embeddings": 256, "tie_word_embeddings": false})";
  }
  const auto r = vkq::test::run_cli("bench model --synthetic '" + cfg.string() +
                                    "' --type q4_0 --prompt 24 --gen 6 --reps 2 --copy-mib 8 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schema"] == "vkq.bench_model/1");
  const auto& res = j["result"];
  CHECK(res["prompt_tokens_per_s"].get<double>() > 0);
  CHECK(res["gen_tokens_per_s"].get<double>() > 0);
  CHECK(res["prompt_runs"].size() == 2);
  CHECK(res["weight_bytes_per_token"].get<uint64_t>() > 0);
  CHECK(res["decode_roofline_share"].get<double>() > 0);
  CHECK(res["dispatches_per_token"].get<uint32_t>() > 10);
  // The kernel prefill's attention ran: the scalar query tiles on lavapipe
  // (no cooperative matrices; the emulated variant is never chosen by itself).
  CHECK(res["attention_variant_prefill"].get<std::string>().starts_with("attention_"));
  CHECK_FALSE(res["attention_variant_prefill"].get<std::string>().ends_with("_emulated"));
  // Attention as the QKV GEMV's tail: off unless asked for.
  CHECK(j["fused_attention_rows"] == 0);
  CHECK(j["fused_attention"] == false);
  if (vkq::test::instance().devices()[0].caps.timestamps) CHECK(!res["breakdown"].empty());
  // The plan predicts what was allocated (exactly on lavapipe).
  const double planned = j["memory"]["planned_peak"].get<double>(), measured = j["memory"]["measured_peak"].get<double>();
  CHECK(measured >= planned * 0.98);
  CHECK(measured <= planned * 1.02 + (64 << 20));

  const auto text = vkq::test::run_cli("bench model --synthetic '" + cfg.string() + "' --type q8_0 --prompt 8 --gen 4 --reps 1 --copy-mib 8");
  INFO(text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("tg4:") != std::string::npos);
  CHECK(text.out.find("roofline:") != std::string::npos);

  // --fused-attention-rows N: taken where decode runs the integer-dot GEMV
  // on the deferred norm (lavapipe does not pick it; the forward tests force it).
  const auto fa = vkq::test::run_cli("bench model --synthetic '" + cfg.string() +
                                     "' --type q8_0 --prompt 0 --gen 4 --reps 1 --copy-mib 8 --no-breakdown "
                                     "--fused-attention-rows 16 --json");
  INFO(fa.err);
  REQUIRE(fa.exit_code == 0);
  const auto faj = nlohmann::json::parse(fa.out);
  CHECK(faj["fused_attention_rows"] == 16);
  CHECK(faj["fused_attention"] == faj["result"]["matmul_variant_decode"].get<std::string>().ends_with("_idot"));

  // --kernel-stats: every kernel the run created, with the driver's
  // statistics of each where the device reports them (null, and a line
  // saying so, where it does not: lavapipe).
  CHECK_FALSE(j.contains("kernel_stats"));
  const std::string ks_args = "bench model --synthetic '" + cfg.string() +
                              "' --type q4_0 --prompt 8 --gen 2 --reps 1 --copy-mib 8 --no-breakdown --kernel-stats";
  const auto ks = vkq::test::run_cli(ks_args + " --json");
  INFO(ks.err);
  REQUIRE(ks.exit_code == 0);
  const auto ksj = nlohmann::json::parse(ks.out);
  REQUIRE(ksj.contains("kernel_stats"));
  const auto ks_text = vkq::test::run_cli(ks_args);
  CHECK(ks_text.exit_code == 0);
  if (vkq::test::instance().devices()[0].caps.pipeline_stats_ext) {
    REQUIRE(ksj["kernel_stats"].is_array());
    CHECK(ksj["kernel_stats"].size() >= 5);  // copy, norms, GEMVs, attention, ...
    for (const auto& k : ksj["kernel_stats"]) {
      INFO(k.dump());
      CHECK(!k["kernel"].get<std::string>().empty());
      CHECK(!k["stats"].empty());
    }
    CHECK(ks_text.out.find("kernels (the driver's statistics") != std::string::npos);
  } else {
    CHECK(ksj["kernel_stats"].is_null());
    CHECK(ks_text.out.find("kernel statistics: not reported") != std::string::npos);
  }

  // --ablate: decode timed again without each op kind; without it, none.
  CHECK(res["ablation"].empty());
  const auto ab = vkq::test::run_cli("bench model --synthetic '" + cfg.string() +
                                     "' --type q4_0 --prompt 0 --gen 4 --reps 1 --copy-mib 8 --no-breakdown --ablate --json");
  INFO(ab.err);
  REQUIRE(ab.exit_code == 0);
  const auto abr = nlohmann::json::parse(ab.out)["result"];
  REQUIRE(abr["ablation"].size() == 5);
  CHECK(abr["ablation"][0]["op"] == "attn_qkv");
  CHECK(abr["ablation"][4]["op"] == "ffn_down");
  CHECK(abr["ablation_base_us"].get<double>() > 0);
  // Each a measured difference (what leaving the op out removes is checked
  // in the forward tests: its dispatches, the same number per layer).
  CHECK(std::isfinite(abr["ablation_rest_us"].get<double>()));
  for (const auto& o : abr["ablation"]) CHECK(std::isfinite(o["us_per_token"].get<double>()));
  const auto abt = vkq::test::run_cli("bench model --synthetic '" + cfg.string() +
                                      "' --type q4_0 --prompt 0 --gen 4 --reps 1 --copy-mib 8 --no-breakdown --ablate");
  CHECK(abt.exit_code == 0);
  CHECK(abt.out.find("decode by removal") != std::string::npos);

  check_refused("bench model",
                {{"", "give a MODEL file or --synthetic"},
                 {"--synthetic llama-2-7b", "needs --type"},
                 {"--synthetic no-such-config --type q4_0", "llama-2-7b"},
                 {"--synthetic '" + cfg.string() + "' --type q4_0 --prompt 300", "exceed its context"},
                 {"--synthetic '" + cfg.string() + "' --type q4_0 --fused-attention-rows x", "fused-attention-rows"}},
                " --copy-mib 8");
}
