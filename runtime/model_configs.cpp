#include "model_configs.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "error.hpp"

namespace vkq {
namespace {

struct NamedConfig {
  const char* name;
  uint32_t dim, hidden, layers, heads, kv_heads, vocab, ctx;
  float rope_theta, norm_eps;
  bool llama3_rope;
};

// From each model's published config.json.
constexpr NamedConfig kConfigs[] = {
    // meta-llama/Llama-2-7b-hf
    {"llama-2-7b", 4096, 11008, 32, 32, 32, 32000, 4096, 10000.0f, 1e-5f, false},
    // meta-llama/Meta-Llama-3-8B
    {"llama-3-8b", 4096, 14336, 32, 32, 8, 128256, 8192, 500000.0f, 1e-5f, false},
    // mistralai/Mistral-7B-v0.1 (sliding window 4096 is not part of llama's GGUF keys)
    {"mistral-7b", 4096, 14336, 32, 32, 8, 32000, 32768, 10000.0f, 1e-5f, false},
    // TinyLlama/TinyLlama-1.1B-Chat-v1.0
    {"tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 2048, 10000.0f, 1e-5f, false},
    // meta-llama/Llama-3.1-70B (rope_scaling: llama3, factor 8, low 1, high 4, original 8192)
    {"llama-3.1-70b", 8192, 28672, 80, 64, 8, 128256, 131072, 500000.0f, 1e-5f, true},
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<float> ModelConfig::rope_freqs() const {
  std::vector<float> out;
  if (!rope_scaling) return out;
  const auto& rs = *rope_scaling;
  const uint32_t dim = hp.head_dim();
  const double low_wavelen = rs.original_context / rs.low_freq_factor;
  const double high_wavelen = rs.original_context / rs.high_freq_factor;
  for (uint32_t i = 0; i < dim; i += 2) {
    const float freq = static_cast<float>(1.0 / std::pow(double(hp.rope_freq_base), double(i) / dim));
    const double wavelen = 2.0 * std::numbers::pi / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(rs.factor);
    } else {
      const double smooth = (rs.original_context / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / rs.factor + smooth)));
    }
  }
  return out;
}

std::vector<std::string> known_model_configs() {
  std::vector<std::string> names;
  for (const auto& c : kConfigs) names.emplace_back(c.name);
  return names;
}

ModelConfig named_model_config(const std::string& name) {
  for (const auto& c : kConfigs) {
    if (name != c.name) continue;
    ModelConfig m;
    m.name = c.name;
    m.hp = {.context_length = c.ctx, .embedding_length = c.dim, .block_count = c.layers,
            .feed_forward_length = c.hidden, .head_count = c.heads, .head_count_kv = c.kv_heads,
            .vocab_size = c.vocab, .rope_dimension_count = c.dim / c.heads, .rms_norm_eps = c.norm_eps,
            .rope_freq_base = c.rope_theta};
    if (c.llama3_rope) m.rope_scaling = Llama3RopeScaling{};
    return m;
  }
  throw InputError(fmt::format("unknown model config '{}'", name),
                   fmt::format("known configs: {}; or give a Hugging Face config.json", fmt::join(known_model_configs(), ", ")));
}

ModelConfig parse_hf_config(const std::string& json_text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e1111
    throw InputError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!j.is_object()) throw InputError(fmt::format("{}: expected a JSON object (a Hugging Face config.json)", source));
  auto fail = [&](const std::string& what) { throw InputError(fmt::format("{}: {}", source, what)); };
  auto u32 = [&](const char* key, std::optional<uint32_t> fallback = std::nullopt) -> uint32_t {
    if (!j.contains(key) || j[key].is_null()) {
      if (fallback) return *fallback;
      fail(fmt::format("key '{}' is missing", key));
    }
    const auto& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > int64_t(UINT32_MAX))
      fail(fmt::format("key '{}' = {}, expected a positive integer", key, v.dump()));
    return static_cast<uint32_t>(v.get<int64_t>());
  };
  auto num = [&](const nlohmann::json& obj, const char* key, double fallback) -> double {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    if (!obj[key].is_number()) fail(fmt::format("key '{}' = {}, expected a number", key, obj[key].dump()));
    return obj[key].get<double>();
  };

  if (j.contains("model_type") && !j["model_type"].is_string())  // j.value() would throw json's type_error
    fail(fmt::format("key 'model_type' = {}, expected a string", j["model_type"].dump()));
  const std::string model_type = j.value("model_type", std::string("llama"));
  if (model_type != "llama" && model_type != "mistral")
    fail(fmt::format("model_type '{}' is not a llama-architecture model (expected llama or mistral)", model_type));
  ModelConfig m;
  m.name = j.contains("_name_or_path") && j["_name_or_path"].is_string()
               ? std::filesystem::path(j["_name_or_path"].get<std::string>()).filename().string()
               : std::filesystem::path(source).parent_path().filename().string();
  if (m.name.empty()) m.name = model_type;
  auto& hp = m.hp;
  hp.embedding_length = u32("hidden_size");
  hp.feed_forward_length = u32("intermediate_size");
  hp.block_count = u32("num_hidden_layers");
  hp.head_count = u32("num_attention_heads");
  hp.head_count_kv = u32("num_key_value_heads", hp.head_count);
  hp.vocab_size = u32("vocab_size");
  hp.context_length = u32("max_position_embeddings");
  hp.rope_freq_base = static_cast<float>(num(j, "rope_theta", 10000.0));
  hp.rms_norm_eps = static_cast<float>(num(j, "rms_norm_eps", 1e-6));  // LlamaConfig's default
  if (hp.embedding_length % hp.head_count)
    fail(fmt::format("hidden_size {} is not a multiple of num_attention_heads {}", hp.embedding_length, hp.head_count));
  hp.rope_dimension_count = hp.head_dim();
  if (j.contains("head_dim") && !j["head_dim"].is_null() && u32("head_dim") != hp.head_dim())
    fail(fmt::format("head_dim {} differs from hidden_size / num_attention_heads = {}: not supported", u32("head_dim"),
                     hp.head_dim()));
  if (j.contains("tie_word_embeddings")) {
    if (!j["tie_word_embeddings"].is_boolean()) fail("key 'tie_word_embeddings' is not a boolean");
    m.tied_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const auto& rs = j["rope_scaling"];
    if (!rs.is_object()) fail("key 'rope_scaling' is not an object");
    const auto type_it = rs.contains("rope_type") ? rs.find("rope_type") : rs.find("type");
    const std::string type = type_it != rs.end() && type_it->is_string() ? type_it->get<std::string>() : "";
    if (type != "llama3") fail(fmt::format("rope_scaling type '{}': not supported yet (llama3 is)", type));
    // Checked as doubles before they become floats: a factor past float's
    // range would turn into inf (found by fuzz_hf_config).
    const double factor = num(rs, "factor", 8.0), low = num(rs, "low_freq_factor", 1.0),
                 high = num(rs, "high_freq_factor", 4.0), orig = num(rs, "original_max_position_embeddings", 8192.0);
    constexpr double kMaxFactor = 65536.0;  // llama3 configs use 8 to 32
    auto in_range = [&](double v) { return v > 0 && v <= kMaxFactor; };
    if (!in_range(factor) || !in_range(low) || !in_range(high) || !(float(high) > float(low)) || !(orig >= 1) ||
        orig > double(UINT32_MAX))
      fail(fmt::format("rope_scaling: factor, low_freq_factor < high_freq_factor must be in (0, {}] and "
                       "original_max_position_embeddings positive",
                       kMaxFactor));
    Llama3RopeScaling s;
    s.factor = static_cast<float>(factor);
    s.low_freq_factor = static_cast<float>(low);
    s.high_freq_factor = static_cast<float>(high);
    s.original_context = static_cast<uint32_t>(orig);
    m.rope_scaling = s;
  }
  validate_llama_hparams(hp, source);
  return m;
}

ModelConfig load_model_config(const std::string& name_or_path) {
  if (std::filesystem::is_directory(name_or_path)) {  // a Hugging Face model folder
    const auto cfg = (std::filesystem::path(name_or_path) / "config.json").string();
    return parse_hf_config(read_text(cfg), cfg);
  }
  const bool is_file = std::filesystem::is_regular_file(name_or_path) ||
                       (name_or_path.size() > 5 && name_or_path.ends_with(".json"));
  if (!is_file) return named_model_config(name_or_path);
  return parse_hf_config(read_text(name_or_path), name_or_path);
}

}  // namespace vkq
