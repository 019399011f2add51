// Model shapes for `vkq synth` and `vkq fit`: named llama-architecture
// configs with their published hyperparameters, or a Hugging Face
// config.json (LlamaForCausalLM / MistralForCausalLM).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "llama_hparams.hpp"

namespace vkq {

// Llama 3.1's rope scaling (config.json rope_scaling.rope_type = "llama3"),
// which llama.cpp stores as per-frequency factors in rope_freqs.weight.
struct Llama3RopeScaling {
  float factor = 8.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  uint32_t original_context = 8192;
  friend bool operator==(const Llama3RopeScaling&, const Llama3RopeScaling&) = default;
};

struct ModelConfig {
  std::string name;
  LlamaHParams hp;
  bool tied_embeddings = false;  // no output.weight
  std::optional<Llama3RopeScaling> rope_scaling;

  // rope_freqs.weight: head_dim/2 factors, as llama.cpp's convert_hf_to_gguf
  // computes them (1 for high frequencies, `factor` for low, smooth between).
  std::vector<float> rope_freqs() const;
};

std::vector<std::string> known_model_configs();  // "llama-2-7b", ...
// InputError listing the known names for an unknown one.
ModelConfig named_model_config(const std::string& name);
// A Hugging Face config.json's text; `source` names it in errors.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& source);
// A known name, a path to a config.json (a file that exists or a name ending
// in .json), or a Hugging Face model folder holding one.
ModelConfig load_model_config(const std::string& name_or_path);

}  // namespace vkq
