#include "tokenizer.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "tokenizer_spm.hpp"

namespace vkq {

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  if (vocab_.tokens.empty() || vocab_.scores.size() != vocab_.tokens.size() || vocab_.types.size() != vocab_.tokens.size())
    throw InputError(fmt::format("tokenizer: {} tokens with {} scores and {} types", vocab_.tokens.size(),
                                 vocab_.scores.size(), vocab_.types.size()));
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size())
    throw InputError(fmt::format("token id {} is outside the vocabulary (0..{})", id, vocab_.size() - 1));
}

std::unique_ptr<Tokenizer> make_tokenizer(const GgufMetadata& md) {
  const std::string model = md.get_string("tokenizer.ggml.model");
  if (model == "llama") return std::make_unique<SpmTokenizer>(read_vocab(md));
  if (model == "gpt2")
    throw InputError(fmt::format("{}: tokenizer.ggml.model 'gpt2' (byte-level BPE): not supported yet", md.source()),
                     "vkq tokenizes 'llama' (SentencePiece BPE) vocabularies");
  throw InputError(fmt::format("{}: tokenizer.ggml.model '{}' is not a known tokenizer", md.source(),
                               escape_for_message(model)),
                   "vkq tokenizes 'llama' (SentencePiece BPE) vocabularies");
}

}  // namespace vkq
