// libFuzzer target for the llama2.c checkpoint reader (runtime/llama2c.hpp).
// An input is refused with InputError, or accepted; an accepted checkpoint
//   - hands out tensors that lie inside the input, at the sizes its header
//     implies (every tensor llama_tensor_specs() lists for it);
//   - converts (to F32, or to F16 when the input's last byte is odd) to a
//     GGUF that the reader and the llama loader's checks accept, with the
//     same hyperparameters, and whose F32 tensors hold the checkpoint's
//     floats (a refusal there is a finding: convert wrote a file vkq
//     cannot load).
// Seeds: tests/fuzz/corpus/llama2c_checkpoint/ (tiny checkpoints written by
// tests/reliability/test_fuzz_replay.cpp).
#include <cstring>
#include <optional>
#include <string>

#include "byte_sink.hpp"
#include "error.hpp"
#include "fuzz/fuzz_target.hpp"
#include "gguf_reader.hpp"
#include "llama2c.hpp"
#include "llama_hparams.hpp"
#include "llama_tensors.hpp"

VKQ_FUZZ_TARGET(llama2c_checkpoint) {
  using namespace vkq;
  std::optional<Llama2cCheckpoint> ckpt;
  try {
    ckpt.emplace(Llama2cCheckpoint::from_memory(data, size, "fuzz.bin"));
  } catch (const InputError&) {
    return;
  }
  const LlamaHParams hp = ckpt->hparams();
  const auto specs = llama_tensor_specs(hp, {.tied_output = ckpt->config().shared_classifier});
  for (const auto& s : specs) {
    const auto t = ckpt->tensor(s.name);
    uint64_t n = 1;
    for (const auto d : s.ne) n *= d;
    expect(t.size() == n, "a tensor has the size its header implies");
    const auto* b = reinterpret_cast<const uint8_t*>(t.data());
    expect(b >= data && t.size_bytes() <= size && b + t.size_bytes() <= data + size, "tensor data inside the input");
  }

  // A vocabulary of the checkpoint's size (the tokenizer is a separate file).
  Vocab v;
  for (uint32_t i = 0; i < hp.vocab_size; ++i) {
    v.tokens.push_back(i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "t" + std::to_string(i));
    v.scores.push_back(0.0f);
    v.types.push_back(i == 0 ? TokenType::unknown : i < 3 ? TokenType::control : TokenType::normal);
  }
  v.build_index();
  MemorySink out;
  const GgmlType type = data[size - 1] & 1 ? GgmlType::F16 : GgmlType::F32;
  convert_llama2c(*ckpt, v, out, {.type = type});
  const auto g = GgufFile::from_memory(out.bytes.data(), out.bytes.size(), "converted.gguf");
  expect(check_llama_metadata(g.metadata()) == hp, "the converted file has the checkpoint's hyperparameters");
  check_llama_tensors(g, hp);
  for (const auto& s : specs) {
    const auto& t = g.tensor(s.name);
    if (t.type != GgmlType::F32) continue;
    const auto src = ckpt->tensor(s.name);
    expect(t.bytes == src.size_bytes() && std::memcmp(t.data, src.data(), t.bytes) == 0,
           "an F32 tensor holds the checkpoint's floats");
  }
}
