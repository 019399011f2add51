#include "support/llama_models.hpp"

#include <filesystem>

#include "byte_sink.hpp"
#include "gguf_reader.hpp"
#include "gguf_writer.hpp"
#include "llama_hparams.hpp"
#include "quant_blocks.hpp"
#include "support/gguf_builder.hpp"

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

std::vector<uint8_t> stories260k_requantized(GgmlType type) {
  static const std::vector<uint8_t> f32 = stories260k_gguf(GgmlType::F32);
  auto parts = GgufParts::read(f32);
  for (auto& t : parts.tensors) {
    const auto row_bytes = ggml_row_bytes(type, t.ne[0]);
    if (t.ne.size() < 2 || !row_bytes) continue;
    const uint64_t rows = t.data.size() / (t.ne[0] * sizeof(float));
    std::vector<uint8_t> q(rows * *row_bytes);
    for (uint64_t r = 0; r < rows; ++r)
      quantize_row(type, reinterpret_cast<const float*>(t.data.data()) + r * t.ne[0], q.data() + r * *row_bytes,
                   t.ne[0]);
    t.type = type;
    t.data = std::move(q);
  }
  parts.metadata.set("general.file_type", GgufValue::u32(llama_file_type(type)));
  return parts.write();
}

}  // namespace vkq::test
