// What the GGUF reader fuzz target checks for each input, shared with the
// unit test that replays saved findings (tests/fuzz/regressions/gguf/): the
// input either parses or is refused with vkq::InputError, and an accepted
// file also satisfies:
//   - every tensor's bytes lie inside the input;
//   - writing it back (write_gguf_copy) and reading that gives the same
//     metadata and tensors (the writer and reader agree on the format);
//   - the llama checks a loader applies, and tokenizer construction, either
//     work or refuse with InputError; a tokenizer encodes and decodes text.
// A violated property throws std::logic_error (a crash under libFuzzer, a
// failure under Catch2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "byte_sink.hpp"
#include "fuzz/fuzz_target.hpp"
#include "error.hpp"
#include "gguf_reader.hpp"
#include "gguf_writer.hpp"
#include "llama_hparams.hpp"
#include "llama_tensors.hpp"
#include "tokenizer.hpp"

namespace vkq::fuzz {

inline void check_accepted_gguf(const GgufFile& f, const uint8_t* data, size_t size) {
  for (const auto& [key, value] : f.metadata().entries()) (void)value.summary();
  for (const auto& t : f.tensors()) {
    expect(t.data >= data && t.bytes <= size && t.data + t.bytes <= data + size, "tensor data inside the input");
    (void)t.shape_string();
  }

  MemorySink out;
  write_gguf_copy(f, out);
  const auto g = GgufFile::from_memory(out.bytes.data(), out.bytes.size(), "rewritten.gguf", {.allow_unsupported_types = true});
  expect(g.metadata() == f.metadata(), "metadata survives a rewrite");
  expect(g.tensors().size() == f.tensors().size(), "tensor count survives a rewrite");
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = g.tensors()[i];
    expect(a.name == b.name && a.type == b.type && a.ne == b.ne && a.bytes == b.bytes, "tensor info survives a rewrite");
    expect(std::memcmp(a.data, b.data, a.bytes) == 0, "tensor data survives a rewrite");
  }

  try {
    const auto hp = check_llama_metadata(f.metadata());
    check_llama_tensors(f, hp);
  } catch (const InputError&) {
  }
  try {
    const auto tok = make_tokenizer(f.metadata());
    const auto ids = tok->encode("Once upon a time \xc3\xa9\x01 \xff", true, true);
    for (const auto id : ids) (void)tok->token_to_piece(id);
    (void)tok->encode(tok->decode(ids), true, true);
  } catch (const InputError&) {
  }
}

// Parses `data` as the fuzz target does; InputError refusals are fine.
inline void check_gguf_input(const uint8_t* data, size_t size) {
  try {
    const auto f = GgufFile::from_memory(data, size, "fuzz.gguf", {.allow_unsupported_types = true});
    check_accepted_gguf(f, data, size);
  } catch (const InputError&) {
  }
}

}  // namespace vkq::fuzz
