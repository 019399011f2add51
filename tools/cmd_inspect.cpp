// vkq inspect MODEL [--json]: a GGUF file's metadata (long arrays
// summarised), tensors (name, shape, type, bytes), totals and bits per
// weight, and whether it passes the llama checks a loader applies.
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "error.hpp"
#include "gguf_reader.hpp"
#include "llama_hparams.hpp"
#include "llama_tensors.hpp"

namespace vkq::cli {
namespace {

using json = nlohmann::ordered_json;  // metadata keeps the file's order

constexpr size_t kJsonArrayInline = 16;  // longer arrays are summarised

// A float as the shortest decimal that reads back as the same float (1e-05,
// not 9.999999747378752e-06).
double shortest(float f) { return std::stod(fmt::format("{}", f)); }

json scalar_json(const GgufValue& v) {
  if (const auto* s = v.as_string()) return *s;
  if (const auto b = v.as_bool()) return *b;
  if (v.type() == GgufType::F32) return shortest(static_cast<float>(*v.as_float()));
  if (const auto f = v.as_float()) return *f;
  if (v.type() == GgufType::I8 || v.type() == GgufType::I16 || v.type() == GgufType::I32 || v.type() == GgufType::I64)
    return *v.as_int();
  return v.bits();
}

json value_json(const GgufValue& v, size_t max_inline = kJsonArrayInline) {
  if (!v.is_array()) return scalar_json(v);
  const uint64_t n = v.array_size();
  json elems = json::array();
  const uint64_t shown = std::min<uint64_t>(n, n <= max_inline ? n : 8);
  if (const auto* s = v.as_strings()) {
    for (uint64_t i = 0; i < shown; ++i) elems.push_back((*s)[i]);
  } else if (const auto* a = v.as_arrays()) {
    for (uint64_t i = 0; i < shown; ++i) elems.push_back(value_json((*a)[i], 4));
  } else {
    const size_t sz = gguf_scalar_size(v.elem_type());
    for (uint64_t i = 0; i < shown; ++i) {
      uint64_t bits = 0;
      std::memcpy(&bits, v.packed().data() + i * sz, sz);
      elems.push_back(scalar_json(GgufValue::scalar_bits(v.elem_type(), bits)));
    }
  }
  if (n <= max_inline) return elems;
  return {{"type", "array"}, {"element_type", gguf_type_name(v.elem_type())}, {"count", n}, {"head", elems}};
}

std::string human_bytes(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", double(b) / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", double(b) / double(1ull << 20));
  if (b >= (1ull << 10)) return fmt::format("{:.1f} KiB", double(b) / double(1ull << 10));
  return fmt::format("{} B", b);
}

struct Totals {
  uint64_t weights = 0, bytes = 0;
  double bpw() const { return weights ? 8.0 * double(bytes) / double(weights) : 0.0; }
};

// The llama checks a loader applies: hyperparameters, or why they fail.
std::pair<std::optional<LlamaHParams>, std::string> llama_check(const GgufFile& f) {
  try {
    const auto hp = check_llama_metadata(f.metadata());
    check_llama_tensors(f, hp);
    return {hp, ""};
  } catch (const InputError& e) {
    return {std::nullopt, e.what()};
  }
}

void print_text(const GgufFile& f, const Totals& tot) {
  std::printf("%s: GGUF v%u, %s, alignment %u, data at byte %llu\n", f.name().c_str(), f.version(),
              human_bytes(f.file_size()).c_str(), f.alignment(), static_cast<unsigned long long>(f.data_offset()));
  std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
  size_t kw = 0;
  for (const auto& [k, v] : f.metadata().entries()) kw = std::max(kw, std::min<size_t>(k.size(), 48));
  for (const auto& [k, v] : f.metadata().entries())
    std::printf("  %-*s %-4s %s\n", int(kw), escape_for_message(k, 48).c_str(), gguf_type_name(v.type()),
                v.summary().c_str());
  std::printf("\ntensors (%zu):\n", f.tensors().size());
  size_t nw = 4, sw = 5;
  for (const auto& t : f.tensors()) {
    nw = std::max(nw, escape_for_message(t.name).size());
    sw = std::max(sw, t.shape_string().size());
  }
  std::printf("  %-*s  %-*s  %-7s %12s\n", int(nw), "name", int(sw), "shape", "type", "bytes");
  for (const auto& t : f.tensors()) {
    const auto& info = ggml_type_info(t.type);
    std::printf("  %-*s  %-*s  %-7s %12llu%s\n", int(nw), escape_for_message(t.name).c_str(), int(sw),
                t.shape_string().c_str(), info.name, static_cast<unsigned long long>(t.bytes),
                info.supported ? "" : "  (not supported yet)");
  }
  std::printf("\ntotal: %zu tensors, %llu weights, %s of tensor data, %.2f bits per weight\n", f.tensors().size(),
              static_cast<unsigned long long>(tot.weights), human_bytes(tot.bytes).c_str(), tot.bpw());
  const auto [hp, err] = llama_check(f);
  if (hp)
    std::printf("llama: dim %u, hidden %u, layers %u, heads %u (kv %u), vocab %u, context %u, rope base %g, rms eps %g\n",
                hp->embedding_length, hp->feed_forward_length, hp->block_count, hp->head_count, hp->head_count_kv,
                hp->vocab_size, hp->context_length, double(hp->rope_freq_base), double(hp->rms_norm_eps));
  else
    std::printf("llama: not loadable: %s\n", err.c_str());
}

json to_json(const GgufFile& f, const Totals& tot) {
  json md = json::object();
  for (const auto& [k, v] : f.metadata().entries()) md[k] = value_json(v);
  json tensors = json::array();
  for (const auto& t : f.tensors()) {
    const auto& info = ggml_type_info(t.type);
    tensors.push_back({{"name", t.name}, {"shape", t.ne}, {"type", info.name}, {"bytes", t.bytes},
                       {"offset", t.offset}, {"supported", info.supported}});
  }
  json j = {{"schema", "vkq.inspect/1"},
            {"vkq_version", VKQ_VERSION},
            {"file", f.name()},
            {"version", f.version()},
            {"alignment", f.alignment()},
            {"data_offset", f.data_offset()},
            {"file_size", f.file_size()},
            {"metadata", md},
            {"tensors", tensors},
            {"totals", {{"tensors", f.tensors().size()}, {"weights", tot.weights}, {"bytes", tot.bytes},
                        {"bits_per_weight", tot.bpw()}}}};
  const auto [hp, err] = llama_check(f);
  if (hp)
    j["llama"] = {{"embedding_length", hp->embedding_length}, {"feed_forward_length", hp->feed_forward_length},
                  {"block_count", hp->block_count}, {"head_count", hp->head_count},
                  {"head_count_kv", hp->head_count_kv}, {"vocab_size", hp->vocab_size},
                  {"context_length", hp->context_length}, {"rope_freq_base", shortest(hp->rope_freq_base)},
                  {"rms_norm_eps", shortest(hp->rms_norm_eps)}};
  else
    j["llama_error"] = err;
  return j;
}

}  // namespace

void add_inspect_command(Cli& cli) {
  auto* sub = cli.app.add_subcommand("inspect", "Show a GGUF file's metadata, tensors and size");
  struct Opts {
    std::string model;
    bool json = false;
  };
  auto opts = std::make_shared<Opts>();
  sub->add_option("MODEL", opts->model, "GGUF file")->required();
  sub->add_flag("--json", opts->json, "Print one JSON document");
  sub->callback([&cli, opts] {
    const auto f = GgufFile::open(opts->model, {.allow_unsupported_types = true});
    Totals tot;
    for (const auto& t : f.tensors()) {
      tot.weights += t.n_elements;
      tot.bytes += t.bytes;
    }
    if (opts->json)
      std::printf("%s\n", to_json(f, tot).dump(2, ' ', false, json::error_handler_t::replace).c_str());
    else
      print_text(f, tot);
    cli.result = 0;
  });
}

}  // namespace vkq::cli
