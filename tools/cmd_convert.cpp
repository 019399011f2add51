// vkq convert SRC -o OUT.gguf [--tokenizer TOK] [--type f32|f16]: a llama2.c
// checkpoint and its tokenizer to a llama GGUF (runtime/llama2c.hpp).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "llama2c.hpp"
#include "progress.hpp"

namespace vkq::cli {
namespace {

bool starts_with_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace

void add_convert_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("convert", "Convert a llama2.c checkpoint (+ tokenizer) to GGUF");
  struct Opts {
    std::string src, tokenizer, out, type = "f32";
  };
  auto opts = std::make_shared<Opts>();
  sub->add_option("SRC", opts->src, "llama2.c checkpoint (.bin)")->required();
  sub->add_option("--tokenizer", opts->tokenizer, "llama2.c tokenizer (.bin, e.g. tokenizer.bin or tok512.bin)");
  sub->add_option("-o,--output", opts->out, "Output GGUF file")->required();
  sub->add_option("--type", opts->type, "Weight type: f32 (default) or f16; norms stay f32");
  sub->callback([&cli, opts] {
    const auto type = parse_ggml_type(opts->type);
    if (!type || (*type != GgmlType::F32 && *type != GgmlType::F16))
      throw InputError(fmt::format("--type '{}' is not f32 or f16", opts->type), "convert writes f32 or f16; use vkq quantize for other types");
    if (std::filesystem::is_directory(opts->src))
      throw InputError(fmt::format("{}: is a folder; Hugging Face folders are not supported yet", opts->src),
                       "convert reads llama2.c checkpoints");
    if (starts_with_gguf_magic(opts->src))
      throw InputError(fmt::format("{}: is already a GGUF file", opts->src), "use vkq quantize to change its weight type");
    if (opts->tokenizer.empty())
      throw InputError(fmt::format("{}: a llama2.c checkpoint needs its tokenizer", opts->src),
                       "pass --tokenizer tokenizer.bin (the llama2.c tokenizer the model was trained with)");
    const Llama2cCheckpoint ckpt(opts->src);
    const Vocab vocab = read_llama2c_tokenizer(opts->tokenizer, static_cast<uint32_t>(ckpt.config().vocab_size));
    AtomicOutputFile out(opts->out);
    ProgressLine progress("convert");
    convert_llama2c(ckpt, vocab, out.sink(), {.type = *type, .progress = progress.reporter()});
    out.commit();
    std::printf("wrote %s: llama, %s, %llu bytes\n", opts->out.c_str(), ggml_type_name(*type),
                static_cast<unsigned long long>(progress.done()));
    cli.result = 0;
  });
}

}  // namespace vkq::cli
