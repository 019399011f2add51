#include "variant_files.hpp"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "error.hpp"
#include "llama2c.hpp"
#include "quant_bridge.hpp"
#include "file_hash.hpp"
#include "sha256.hpp"

namespace vkq::eval {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void need_file(const std::string& path, const std::string& variant, const char* what) {
  if (!fs::is_regular_file(path))
    throw InputError(fmt::format("variant \"{}\": {} {} does not exist", variant, what, path));
}

VariantFile from_file(const VariantSpec& v) {
  need_file(v.path, v.name, "GGUF file");
  VariantFile f{v.name, v.reference, v.path, sha256_file(v.path), fs::file_size(v.path), "gguf", false, 0};
  return f;
}

VariantFile from_checkpoint(const VariantSpec& v, const std::string& cache_dir, const std::string& build) {
  need_file(v.path, v.name, "checkpoint");
  need_file(v.tokenizer, v.name, "tokenizer");
  const auto t0 = Clock::now();
  const std::string key = quant::sha256_hex(fmt::format("llama2c->gguf f32|{}|{}|{}", sha256_file(v.path),
                                                 sha256_file(v.tokenizer), build));
  const std::string out = (fs::path(cache_dir) / "models" / (key + ".gguf")).string();
  VariantFile f{v.name, v.reference, out, "", 0, "llama2.c checkpoint " + fs::path(v.path).filename().string(), true, 0};
  if (!fs::is_regular_file(out)) {
    f.cached = false;
    fs::create_directories(fs::path(out).parent_path());
    const Llama2cCheckpoint ckpt(v.path);
    const Vocab vocab = read_llama2c_tokenizer(v.tokenizer, static_cast<uint32_t>(ckpt.config().vocab_size));
    AtomicOutputFile file(out);
    Llama2cConvertOptions o;
    o.name = fs::path(v.path).stem().string();
    convert_llama2c(ckpt, vocab, file.sink(), o);
    file.commit();
  }
  f.sha256 = sha256_file(out);
  f.bytes = fs::file_size(out);
  f.prepare_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return f;
}

VariantFile from_recipe(const VariantSpec& v, const VariantFile& from, const std::string& cache_dir,
                        const std::string& build, const std::function<void(const std::string&)>& note) {
  if (!v.calib.empty()) need_file(v.calib, v.name, "calibration file");
  const auto t0 = Clock::now();
  const nlohmann::json what = {{"from", from.sha256},
                               {"method", recipe_method_name(v.method)},
                               {"type", ggml_type_name(v.type)},
                               {"calib", v.calib.empty() ? "" : sha256_file(v.calib)},
                               {"samples", v.samples},
                               {"seq_len", v.seq_len},
                               {"seed", v.seed},
                               {"vkq", build}};
  const std::string key = quant::sha256_hex(what.dump());
  const std::string out = (fs::path(cache_dir) / "models" / (key + ".gguf")).string();
  VariantFile f{v.name, v.reference, out, "", 0,
                fmt::format("{} {} from {}", recipe_method_name(v.method), ggml_type_name(v.type), v.from), true, 0};
  if (!fs::is_regular_file(out)) {
    f.cached = false;
    fs::create_directories(fs::path(out).parent_path());
    if (note) note(fmt::format("quantizing {} ({})", v.name, f.source));
    quant::QuantizeOptions o;
    o.input = from.file;
    o.output = out;
    o.type = v.type;
    o.method = v.method;
    o.calib_file = v.calib;
    o.samples = v.samples;
    o.seq_len = v.seq_len;
    o.seed = v.seed;
    o.device = "cpu";
    run_quantizer(o);
    if (!fs::is_regular_file(out))
      throw InputError(fmt::format("variant \"{}\": the quantizer wrote no {}", v.name, out));
  }
  f.sha256 = sha256_file(out);
  f.bytes = fs::file_size(out);
  f.prepare_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return f;
}

}  // namespace

std::vector<VariantFile> prepare_variants(const ScorecardConfig& cfg, const std::string& cache_dir,
                                          const std::string& build,
                                          const std::function<void(const std::string&)>& note) {
  std::vector<VariantFile> out(cfg.variants.size());
  // Files first (recipes read them), then recipes.
  for (size_t i = 0; i < cfg.variants.size(); ++i) {
    const auto& v = cfg.variants[i];
    if (v.source == VariantSpec::Source::gguf) out[i] = from_file(v);
    if (v.source == VariantSpec::Source::checkpoint) {
      if (note) note(fmt::format("converting {}", v.name));
      out[i] = from_checkpoint(v, cache_dir, build);
    }
  }
  for (size_t i = 0; i < cfg.variants.size(); ++i) {
    const auto& v = cfg.variants[i];
    if (v.source != VariantSpec::Source::recipe) continue;
    size_t j = 0;
    while (cfg.variants[j].name != v.from) ++j;  // the config checked that it exists
    out[i] = from_recipe(v, out[j], cache_dir, build, note);
  }
  return out;
}

}  // namespace vkq::eval
