// The scorecard's one door to the quantizer (quant/quantize.hpp), so that
// the eval library builds and its GGUF-path variants run while libvkq_quant
// has no implementation yet: eval/CMakeLists.txt sets VKQ_HAVE_QUANTIZER
// from whether the vkq_quant target has sources. Once it does, recipes call
// quant::quantize_model; until then a recipe is refused with exit 2 and a
// message saying why (never a silent substitute).
#pragma once

#include <optional>
#include <string>

#include "quantize.hpp"

namespace vkq::eval {

bool quantizer_available();
const char* recipe_method_name(quant::Method m);
std::optional<quant::Method> parse_recipe_method(const std::string& s);
// quant::quantize_model, or InputError when this build has no quantizer.
quant::QuantizeReport run_quantizer(const quant::QuantizeOptions& o);

}  // namespace vkq::eval
