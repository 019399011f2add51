#include "llama2c.hpp"

#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "byte_cursor.hpp"
#include "error.hpp"
#include "gguf_writer.hpp"
#include "llama_tensors.hpp"
#include "quant_blocks.hpp"

namespace vkq {
namespace {

constexpr int32_t kLlama2cMagic = 0x616b3432;  // "ak42": llama2.c's versioned exports (v1+)

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& file) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw InputError(fmt::format("{}: header sizes overflow", file));
  return r;
}

Llama2cConfig read_header(const uint8_t* data, size_t size, const std::string& path) {
  ByteCursor c(data, size, path);
  int32_t h[7];
  for (auto& v : h) v = c.read<int32_t>("llama2.c header");
  if (h[0] == kLlama2cMagic)
    c.fail(fmt::format("llama2.c export version {} (magic 'ak42') is not supported; export with --version 0",
                       h[1]));
  Llama2cConfig cfg{h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[5] > 0};
  if (cfg.vocab_size == INT32_MIN) c.fail("header: vocab_size is out of range");
  cfg.vocab_size = cfg.vocab_size < 0 ? -cfg.vocab_size : cfg.vocab_size;
  const std::pair<const char*, int32_t> fields[] = {{"dim", cfg.dim}, {"hidden_dim", cfg.hidden_dim},
                                                    {"n_layers", cfg.n_layers}, {"n_heads", cfg.n_heads},
                                                    {"n_kv_heads", cfg.n_kv_heads}, {"vocab_size", cfg.vocab_size},
                                                    {"seq_len", cfg.seq_len}};
  for (const auto& [name, v] : fields)
    if (v <= 0) c.fail(fmt::format("header: {} = {}, expected a positive number (is this a llama2.c checkpoint?)", name, v));
  if (cfg.dim % cfg.n_heads || cfg.n_heads % cfg.n_kv_heads || (cfg.dim / cfg.n_heads) % 2)
    c.fail(fmt::format("header: dim {} / n_heads {} / n_kv_heads {} are inconsistent (heads must divide dim, kv heads "
                       "must divide heads, the head size must be even)",
                       cfg.dim, cfg.n_heads, cfg.n_kv_heads));
  return cfg;
}

}  // namespace

Llama2cCheckpoint::Llama2cCheckpoint(const std::string& path) : Llama2cCheckpoint(MappedFile(path), nullptr, 0, path) {}

Llama2cCheckpoint Llama2cCheckpoint::from_memory(const uint8_t* data, size_t size, std::string name) {
  return Llama2cCheckpoint(std::nullopt, data, size, std::move(name));
}

// `map` set: the data is the map's (moved in first, so its pointer is used).
Llama2cCheckpoint::Llama2cCheckpoint(std::optional<MappedFile> map, const uint8_t* data, size_t size, std::string name)
    : map_(std::move(map)),
      path_(std::move(name)),
      data_(map_ ? map_->data() : data),
      size_(map_ ? map_->size() : size),
      config_(read_header(data_, size_, path_)) {
  const auto& c = config_;
  const std::string& p = path_;
  // What the llama loader will require of the converted file (at most 4096
  // blocks, ...): refused here, not after a GGUF nobody can load is written.
  validate_llama_hparams(hparams(), p);
  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers, vocab = c.vocab_size;
  const uint64_t kv_dim = dim / c.n_heads * c.n_kv_heads, head = dim / c.n_heads;

  // Walk the arrays in file order; sizes are checked before any pointer is made.
  struct Array {
    const char* what;
    uint64_t count;
    const float* at = nullptr;
  };
  std::vector<Array> arrays = {
      {"token_embedding", checked_mul(vocab, dim, p)},
      {"rms_att", checked_mul(layers, dim, p)},
      {"wq", checked_mul(layers, checked_mul(dim, dim, p), p)},
      {"wk", checked_mul(layers, checked_mul(kv_dim, dim, p), p)},
      {"wv", checked_mul(layers, checked_mul(kv_dim, dim, p), p)},
      {"wo", checked_mul(layers, checked_mul(dim, dim, p), p)},
      {"rms_ffn", checked_mul(layers, dim, p)},
      {"w1", checked_mul(layers, checked_mul(hidden, dim, p), p)},
      {"w2", checked_mul(layers, checked_mul(dim, hidden, p), p)},
      {"w3", checked_mul(layers, checked_mul(hidden, dim, p), p)},
      {"rms_final", dim},
      {"freq_cis", checked_mul(c.seq_len, head, p)},  // real and imag, seq_len * head/2 each
      {"wcls", c.shared_classifier ? 0 : checked_mul(vocab, dim, p)},
  };
  uint64_t expected = 28;
  for (auto& a : arrays) {
    a.at = reinterpret_cast<const float*>(data_ + std::min<uint64_t>(expected, size_));
    if (__builtin_add_overflow(expected, checked_mul(a.count, 4, p), &expected))
      throw InputError(fmt::format("{}: header sizes overflow", p));
  }
  if (expected != size_)
    throw InputError(fmt::format("{}: the header ({} dim, {} hidden, {} layers, {} heads, {} kv heads, vocab {}, seq_len {}) "
                                 "implies {} bytes, the file has {}{}",
                                 p, c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len,
                                 expected, size_, expected > size_ ? " (truncated)" : ""));
  auto find = [&](const char* what) -> const Array& {
    for (const auto& a : arrays)
      if (std::string_view(a.what) == what) return a;
    throw std::logic_error("llama2c: no array");
  };
  auto slice = [&](const char* what, uint64_t layer, uint64_t per_layer) {
    return std::span<const float>(find(what).at + layer * per_layer, static_cast<size_t>(per_layer));
  };

  tensors_["token_embd.weight"] = slice("token_embedding", 0, vocab * dim);
  for (uint64_t l = 0; l < layers; ++l) {
    auto n = [l](const char* t) { return fmt::format("blk.{}.{}.weight", l, t); };
    tensors_[n("attn_norm")] = slice("rms_att", l, dim);
    tensors_[n("attn_q")] = slice("wq", l, dim * dim);
    tensors_[n("attn_k")] = slice("wk", l, kv_dim * dim);
    tensors_[n("attn_v")] = slice("wv", l, kv_dim * dim);
    tensors_[n("attn_output")] = slice("wo", l, dim * dim);
    tensors_[n("ffn_norm")] = slice("rms_ffn", l, dim);
    tensors_[n("ffn_gate")] = slice("w1", l, hidden * dim);
    tensors_[n("ffn_down")] = slice("w2", l, dim * hidden);
    tensors_[n("ffn_up")] = slice("w3", l, hidden * dim);
  }
  tensors_["output_norm.weight"] = slice("rms_final", 0, dim);
  if (!c.shared_classifier) tensors_["output.weight"] = slice("wcls", 0, vocab * dim);
}

LlamaHParams Llama2cCheckpoint::hparams() const {
  LlamaHParams hp;
  hp.context_length = static_cast<uint32_t>(config_.seq_len);
  hp.embedding_length = static_cast<uint32_t>(config_.dim);
  hp.block_count = static_cast<uint32_t>(config_.n_layers);
  hp.feed_forward_length = static_cast<uint32_t>(config_.hidden_dim);
  hp.head_count = static_cast<uint32_t>(config_.n_heads);
  hp.head_count_kv = static_cast<uint32_t>(config_.n_kv_heads);
  hp.vocab_size = static_cast<uint32_t>(config_.vocab_size);
  hp.rope_dimension_count = hp.head_dim();
  hp.rms_norm_eps = 1e-5f;
  hp.rope_freq_base = 10000.0f;
  return hp;
}

std::span<const float> Llama2cCheckpoint::tensor(const std::string& gguf_name) const {
  const auto it = tensors_.find(gguf_name);
  return it == tensors_.end() ? std::span<const float>() : it->second;
}

Vocab read_llama2c_tokenizer(const std::string& path, uint32_t n_vocab) {
  const MappedFile f(path);
  return read_llama2c_tokenizer(f.data(), f.size(), path, n_vocab);
}

Vocab read_llama2c_tokenizer(const uint8_t* data, size_t size, const std::string& path, uint32_t n_vocab) {
  ByteCursor c(data, size, path);
  // Its special tokens are fixed: <unk>, <s> and </s> at 0, 1 and 2; a
  // smaller vocabulary would name BOS or EOS outside itself (and the GGUF
  // written from it would be refused on reading).
  if (n_vocab < 3)
    c.fail(fmt::format("a vocabulary of {} token(s) cannot hold llama2.c's <unk>, <s> and </s> (ids 0, 1, 2)", n_vocab));
  const auto max_len = c.read<int32_t>("max_token_length");
  if (max_len < 0) c.fail(fmt::format("max_token_length = {} is negative (is this a llama2.c tokenizer?)", max_len));
  if (n_vocab > c.left() / 8)
    c.fail(fmt::format("{} tokens cannot fit in the {} bytes left (is this the tokenizer for this model?)", n_vocab,
                       c.left()));
  Vocab v;
  v.model = "llama";
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.tokens.reserve(n_vocab);
  v.scores.reserve(n_vocab);
  v.types.reserve(n_vocab);
  for (uint32_t id = 0; id < n_vocab; ++id) {
    const auto score = c.read<float>(fmt::format("token {} score", id));
    const auto len = c.read<int32_t>(fmt::format("token {} length", id));
    if (len < 0) c.fail(fmt::format("token {}: length {} is negative", id, len));
    std::string text = c.read_bytes_as_string(static_cast<uint64_t>(len), fmt::format("token {}", id));
    TokenType type = TokenType::normal;
    if (id == 0) {
      text = "<unk>";
      type = TokenType::unknown;
    } else if (id == 1 || id == 2) {
      text = id == 1 ? "<s>" : "</s>";
      type = TokenType::control;
    } else if (text.empty()) {
      type = TokenType::control;
    } else if (parse_byte_token(text) >= 0) {
      type = TokenType::byte;
    }
    std::string escaped;
    for (const char ch : text) escaped += ch == ' ' ? std::string("\xe2\x96\x81") : std::string(1, ch);
    v.tokens.push_back(std::move(escaped));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (c.left())
    c.fail(fmt::format("{} bytes left after {} tokens: the tokenizer is for a larger vocabulary than the model's",
                       c.left(), n_vocab));
  v.build_index();
  return v;
}

void convert_llama2c(const Llama2cCheckpoint& ckpt, const Vocab& vocab, ByteSink& out,
                     const Llama2cConvertOptions& opts) {
  if (opts.type != GgmlType::F32 && opts.type != GgmlType::F16)
    throw InputError(fmt::format("convert: --type {} is not supported for llama2.c (use f32 or f16)",
                                 ggml_type_name(opts.type)));
  const LlamaHParams hp = ckpt.hparams();
  if (vocab.size() != hp.vocab_size)
    throw InputError(fmt::format("{}: the vocabulary has {} tokens, the checkpoint {}", ckpt.path(), vocab.size(),
                                 hp.vocab_size));

  GgufMetadata md(ckpt.path());
  md.set("general.architecture", GgufValue::string("llama"));
  md.set("general.name", GgufValue::string(opts.name.empty() ? std::filesystem::path(ckpt.path()).stem().string() : opts.name));
  md.set("general.file_type", GgufValue::u32(llama_file_type(opts.type)));
  set_llama_metadata(md, hp);
  set_vocab_metadata(md, vocab);

  GgufWriter w(std::move(md));
  const auto specs = llama_tensor_specs(hp, {.tied_output = ckpt.config().shared_classifier});
  for (const auto& s : specs) w.add_tensor(s.name, s.always_f32() ? GgmlType::F32 : opts.type, s.ne);
  const uint64_t total = w.file_size();
  w.begin(out);
  std::vector<uint16_t> half;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto src = ckpt.tensor(specs[i].name);
    if (w.tensors()[i].type == GgmlType::F32) {
      w.write(src.data(), src.size_bytes());
    } else {
      constexpr size_t kChunk = 1 << 16;
      half.resize(kChunk);
      for (size_t off = 0; off < src.size(); off += kChunk) {
        const size_t n = std::min(kChunk, src.size() - off);
        quantize_row(GgmlType::F16, src.data() + off, half.data(), n);
        w.write(half.data(), n * sizeof(uint16_t));
      }
    }
    if (opts.progress) opts.progress(w.bytes_written(), total);
  }
  w.finish();
}

}  // namespace vkq
