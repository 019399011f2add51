#include "quant_bridge.hpp"

#include "error.hpp"

#ifndef VKQ_HAVE_QUANTIZER
#define VKQ_HAVE_QUANTIZER 0
#endif

namespace vkq::eval {

bool quantizer_available() { return VKQ_HAVE_QUANTIZER != 0; }

#if VKQ_HAVE_QUANTIZER

const char* recipe_method_name(quant::Method m) { return quant::method_name(m); }
std::optional<quant::Method> parse_recipe_method(const std::string& s) { return quant::parse_method(s); }
quant::QuantizeReport run_quantizer(const quant::QuantizeOptions& o) { return quant::quantize_model(o); }

#else

// Names only (the quantizer's own method_name/parse_method replace these
// when it is built).
const char* recipe_method_name(quant::Method m) {
  switch (m) {
    case quant::Method::rtn: return "rtn";
    case quant::Method::gptq: return "gptq";
    case quant::Method::awq: return "awq";
  }
  return "?";
}

std::optional<quant::Method> parse_recipe_method(const std::string& s) {
  if (s == "rtn") return quant::Method::rtn;
  if (s == "gptq") return quant::Method::gptq;
  if (s == "awq") return quant::Method::awq;
  return std::nullopt;
}

quant::QuantizeReport run_quantizer(const quant::QuantizeOptions& o) {
  throw InputError("cannot quantize " + o.input + " on the fly: this vkq build has no quantizer (libvkq_quant has no "
                   "sources yet)",
                   "give the variant as a GGUF file (path = ...) instead of a recipe");
}

#endif

}  // namespace vkq::eval
