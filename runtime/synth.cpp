#include "synth.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numbers>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "error.hpp"
#include "gguf_writer.hpp"
#include "llama_tensors.hpp"
#include "quant_blocks.hpp"

namespace vkq {
namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// xoshiro256+ with Box-Muller: fast enough for billions of weights, and
// seeded per (tensor, chunk) so the output is the same for any thread count.
class NormalRng {
 public:
  explicit NormalRng(uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  void fill(float* out, size_t n, float mean, float std) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
      float a, b;
      pair(a, b);
      out[i] = mean + std * a;
      out[i + 1] = mean + std * b;
    }
    if (i < n) {
      float a, b;
      pair(a, b);
      out[i] = mean + std * a;
    }
  }

 private:
  uint64_t next() {
    const uint64_t r = s_[0] + s_[3], t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return r;
  }
  void pair(float& a, float& b) {
    const uint64_t r = next();
    const float u1 = (float((r >> 40) & 0xffffff) + 1.0f) * (1.0f / 16777217.0f);  // (0, 1)
    const float u2 = float(r & 0xffffff) * (1.0f / 16777216.0f);                   // [0, 1)
    const float rad = std::sqrt(-2.0f * std::log(u1));
    const float th = 2.0f * std::numbers::pi_v<float> * u2;
    a = rad * std::cos(th);
    b = rad * std::sin(th);
  }
  uint64_t s_[4];
};

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0x9e3779b97f4a7c15ull);
  return splitmix64(s);
}

uint64_t name_hash(const std::string& s) {  // FNV-1a: stable across platforms, unlike std::hash
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

LlamaTensorOptions synth_tensor_options(const ModelConfig& cfg) {
  return {.tied_output = cfg.tied_embeddings, .rope_freqs = cfg.rope_scaling.has_value()};
}

}  // namespace

Vocab placeholder_vocab(uint32_t n) {
  Vocab v;
  v.model = "llama";
  v.unk = n > 0 ? 0 : -1;
  v.bos = n > 1 ? 1 : -1;
  v.eos = n > 2 ? 2 : -1;
  v.tokens.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (i < 3) {
      v.tokens.emplace_back(i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
      v.types.push_back(i == 0 ? TokenType::unknown : TokenType::control);
    } else if (i < 3 + 256) {
      v.tokens.push_back(byte_token_text(static_cast<uint8_t>(i - 3)));
      v.types.push_back(TokenType::byte);
    } else if (i == 3 + 256) {
      v.tokens.emplace_back("\xe2\x96\x81");  // the space piece, so that spaces do not fall back to bytes
      v.types.push_back(TokenType::normal);
    } else {
      v.tokens.push_back(fmt::format("\xe2\x96\x81tok{}", i));
      v.types.push_back(TokenType::normal);
    }
    v.scores.push_back(i < 3 + 256 ? 0.0f : -static_cast<float>(i - 3 - 256));
  }
  v.build_index();
  return v;
}

GgufWriter synth_layout(const ModelConfig& cfg, GgmlType type, uint64_t seed) {
  const auto& tinfo = ggml_type_info(type);
  if (!tinfo.supported) throw InputError(fmt::format("synth: type {} is not supported", tinfo.name));
  validate_llama_hparams(cfg.hp, cfg.name);

  GgufMetadata md(cfg.name);
  md.set("general.architecture", GgufValue::string("llama"));
  md.set("general.name", GgufValue::string(cfg.name));
  md.set("general.file_type", GgufValue::u32(llama_file_type(type)));
  if (tinfo.block_elems > 1) md.set("general.quantization_version", GgufValue::u32(2));
  set_llama_metadata(md, cfg.hp);
  md.set("vkq.synth.seed", GgufValue::u64(seed));
  set_vocab_metadata(md, placeholder_vocab(cfg.hp.vocab_size));

  GgufWriter w(std::move(md));
  for (const auto& s : llama_tensor_specs(cfg.hp, synth_tensor_options(cfg)))
    w.add_tensor(s.name, s.always_f32() ? GgmlType::F32 : type, s.ne);
  return w;
}

void synth_model(const ModelConfig& cfg, ByteSink& out, const SynthOptions& opts) {
  GgufWriter w = synth_layout(cfg, opts.type, opts.seed);
  const auto specs = llama_tensor_specs(cfg.hp, synth_tensor_options(cfg));
  const uint64_t total = w.file_size();
  w.begin(out);

  // Each worker holds one chunk (about 4 MB of floats plus its blocks); the
  // default stops at 32 workers, past which the disk is the limit anyway.
  const unsigned n_threads = std::max(1u, opts.threads ? opts.threads : std::min(32u, std::thread::hardware_concurrency()));
  struct Chunk {
    std::vector<float> x;
    std::vector<uint8_t> q;
    uint64_t rows = 0;
  };
  std::vector<Chunk> chunks(n_threads);
  for (size_t ti = 0; ti < specs.size(); ++ti) {
    const auto& spec = specs[ti];
    const auto& t = w.tensors()[ti];
    if (spec.kind == LlamaTensorKind::rope_freqs) {
      const auto f = cfg.rope_freqs();
      w.write(f.data(), f.size() * sizeof(float));
      continue;
    }
    const uint64_t row = t.row_length(), n_rows = t.n_rows();
    const uint64_t row_bytes = *ggml_row_bytes(t.type, row);
    const float mean = spec.kind == LlamaTensorKind::norm ? 1.0f : 0.0f;
    const float std = spec.kind == LlamaTensorKind::norm ? 0.02f : 1.0f / std::sqrt(float(row));
    // Chunks of about a million weights; chunk k of tensor ti always gets
    // the same random stream.
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, (1u << 20) / row);
    const uint64_t n_chunks = (n_rows + rows_per_chunk - 1) / rows_per_chunk;
    const uint64_t tseed = mix(opts.seed, name_hash(spec.name));
    for (uint64_t first = 0; first < n_chunks; first += n_threads) {
      const unsigned batch = static_cast<unsigned>(std::min<uint64_t>(n_threads, n_chunks - first));
      auto work = [&](unsigned i) {
        const uint64_t k = first + i, r0 = k * rows_per_chunk;
        auto& c = chunks[i];
        c.rows = std::min(rows_per_chunk, n_rows - r0);
        c.x.resize(static_cast<size_t>(c.rows * row));
        c.q.resize(static_cast<size_t>(c.rows * row_bytes));
        NormalRng(mix(tseed, k)).fill(c.x.data(), c.x.size(), mean, std);
        for (uint64_t r = 0; r < c.rows; ++r)
          quantize_row(t.type, c.x.data() + r * row, c.q.data() + r * row_bytes, static_cast<size_t>(row));
      };
      // Worker exceptions (out of memory) are rethrown here, not lost in a thread.
      std::vector<std::exception_ptr> errors(batch);
      auto guarded = [&](unsigned i) {
        try {
          work(i);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      };
      {
        std::vector<std::jthread> pool;
        for (unsigned i = 1; i < batch; ++i) pool.emplace_back(guarded, i);
        guarded(0);
      }  // joined
      for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
      for (unsigned i = 0; i < batch; ++i) w.write(chunks[i].q.data(), chunks[i].q.size());
      if (opts.progress) opts.progress(w.bytes_written(), total);
    }
  }
  w.finish();
  if (opts.progress) opts.progress(w.bytes_written(), total);
}

}  // namespace vkq
