#include "support/llama_models.hpp"

#include <cmath>
#include <filesystem>

#include "byte_sink.hpp"
#include "gguf_reader.hpp"
#include "gguf_writer.hpp"
#include "llama_hparams.hpp"
#include "cpu_forward.hpp"
#include "generate.hpp"
#include "quant_blocks.hpp"
#include "sampler.hpp"
#include "support/gguf_builder.hpp"
#include "tokenizer.hpp"

namespace vkq::test {

bool have_stories260k() {
  namespace fs = std::filesystem;
  return fs::is_regular_file(fs::path(models_dir()) / "stories260K.bin") &&
         fs::is_regular_file(fs::path(models_dir()) / "tok512.bin");
}

GgufParts GgufParts::read(const std::vector<uint8_t>& gguf) {
  const auto f = GgufFile::from_memory(gguf.data(), gguf.size());
  GgufParts p{f.metadata(), {}};
  for (const auto& t : f.tensors()) p.tensors.push_back({t.name, t.type, t.ne, {t.data, t.data + t.bytes}});
  return p;
}

std::vector<uint8_t> GgufParts::write() const {
  GgufWriter w(metadata);
  for (const auto& t : tensors) w.add_tensor(t.name, t.type, t.ne);
  MemorySink sink;
  w.begin(sink);
  for (const auto& t : tensors) w.write(t.data.data(), t.data.size());
  w.finish();
  return std::move(sink.bytes);
}

GgufParts::Tensor* GgufParts::find(const std::string& name) {
  for (auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void GgufParts::reshape(const std::string& name, std::vector<uint64_t> ne) {
  auto& t = *find(name);
  uint64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
  t.data.resize(rows * *ggml_row_bytes(t.type, ne[0]));
  t.ne = std::move(ne);
}

std::vector<uint8_t> stories260k_requantized(GgmlType type, std::optional<GgmlType> attn_v) {
  static const std::vector<uint8_t> f32 = stories260k_gguf(GgmlType::F32);
  auto parts = GgufParts::read(f32);
  for (auto& t : parts.tensors) {
    const GgmlType type_here = attn_v && t.name.ends_with(".attn_v.weight") ? *attn_v : type;
    const auto row_bytes = ggml_row_bytes(type_here, t.ne[0]);
    if (t.ne.size() < 2 || !row_bytes) continue;
    const uint64_t rows = t.data.size() / (t.ne[0] * sizeof(float));
    std::vector<uint8_t> q(rows * *row_bytes);
    for (uint64_t r = 0; r < rows; ++r)
      quantize_row(type_here, reinterpret_cast<const float*>(t.data.data()) + r * t.ne[0], q.data() + r * *row_bytes,
                   t.ne[0]);
    t.type = type_here;
    t.data = std::move(q);
  }
  parts.metadata.set("general.file_type", GgufValue::u32(llama_file_type(type)));
  return parts.write();
}

LoadedModel::LoadedModel(std::vector<uint8_t> b) : bytes(std::move(b)) {
  model = std::make_unique<LlamaModel>(GgufFile::from_memory(bytes.data(), bytes.size(), "stories260K.gguf"));
}

LoadedModel load_stories260k(GgmlType type) {
  return LoadedModel(type == GgmlType::F32 ? stories260k_gguf() : stories260k_requantized(type));
}

std::vector<int32_t> story_tokens(const LlamaModel& m, size_t n) {
  const auto tok = make_tokenizer(m.metadata());
  CpuForward s(m, static_cast<uint32_t>(n));
  Sampler greedy({.temperature = 0});
  const auto prompt = tok->encode("Once upon a time", true);
  const auto r = generate(s, *tok, prompt, static_cast<uint32_t>(n - prompt.size()), greedy);
  auto all = r.prompt_tokens;
  all.insert(all.end(), r.tokens.begin(), r.tokens.end());
  return all;
}

double max_rel_diff(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    num = std::max(num, std::fabs(double(a[i]) - double(b[i])));
    den = std::max(den, std::fabs(double(b[i])));
  }
  return den > 0 ? num / den : num;
}

}  // namespace vkq::test
