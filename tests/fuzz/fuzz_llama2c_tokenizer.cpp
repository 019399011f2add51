// libFuzzer target for the llama2.c tokenizer reader (runtime/llama2c.hpp).
// Input: u16 little-endian token count (the checkpoint's vocab_size, which
// the tokenizer file does not hold), then the tokenizer file. Refused with
// InputError, or accepted; an accepted vocabulary
//   - has at least 3 tokens, one text, score and type per token,
//     BOS/EOS/UNK at 1/2/0, and
//     every text the file had (spaces as U+2581);
//   - survives a round trip through GGUF metadata (set_vocab_metadata ->
//     GgufWriter -> GgufFile -> read_vocab);
//   - makes a tokenizer that encodes text to ids inside the vocabulary and
//     decodes them (whether the round trip is exact depends on the
//     vocabulary; fuzz_tokenizer_encode checks it on real ones).
// Seeds: tests/fuzz/corpus/llama2c_tokenizer/ (small ones written by
// tests/reliability/test_fuzz_replay.cpp), and stories260K's tok512 from
// VKQ_MODELS_DIR, which scripts/fuzz.sh prefixes with its count at run time
// (the models come from elsewhere and are not in the repository).
#include <string>

#include "byte_sink.hpp"
#include "error.hpp"
#include "fuzz/fuzz_target.hpp"
#include "gguf_reader.hpp"
#include "gguf_writer.hpp"
#include "llama2c.hpp"
#include "tokenizer.hpp"

VKQ_FUZZ_TARGET(llama2c_tokenizer) {
  using namespace vkq;
  if (size < 2) return;
  const uint32_t n_vocab = data[0] | (uint32_t(data[1]) << 8);
  Vocab v;
  try {
    v = read_llama2c_tokenizer(data + 2, size - 2, "fuzz-tok.bin", n_vocab);
  } catch (const InputError&) {
    return;
  }
  expect(v.size() == n_vocab && v.scores.size() == n_vocab && v.types.size() == n_vocab, "one entry per token");
  expect(n_vocab >= 3, "room for the special ids");  // fewer: refused (regressions/llama2c_tokenizer/vocab-of-one)
  expect(v.unk == 0 && v.bos == 1 && v.eos == 2, "llama2.c's special ids");

  GgufMetadata md("fuzz-tok.bin");
  md.set("general.architecture", GgufValue::string("llama"));
  set_vocab_metadata(md, v);
  GgufWriter w(std::move(md));
  MemorySink out;
  w.begin(out);
  w.finish();
  const auto g = GgufFile::from_memory(out.bytes.data(), out.bytes.size(), "vocab.gguf");
  const Vocab back = read_vocab(g.metadata());
  expect(back.tokens == v.tokens && back.types == v.types, "the vocabulary survives GGUF metadata");
  for (size_t i = 0; i < v.size(); ++i)
    expect(back.scores[i] == v.scores[i] || (back.scores[i] != back.scores[i] && v.scores[i] != v.scores[i]),
           "scores survive GGUF metadata");

  const auto tok = make_tokenizer(g.metadata());
  for (const std::string text : {"Once upon a time", " a  b ", "\xc3\xa9\xff\x01<s></s><unk>", "t3 t4"}) {
    try {
      const auto ids = tok->encode(text, true, true);
      for (const auto id : ids) expect(id >= 0 && static_cast<size_t>(id) < v.size(), "ids inside the vocabulary");
      (void)tok->decode(ids);
    } catch (const InputError&) {
      // No byte token and no unknown token for some byte: refused, not a crash.
    }
  }
}
