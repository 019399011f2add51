// One row of the variant table (shaders/variants.txt), as embedded by the
// build (cmake/VkqShaders.cmake generates the array).
#pragma once

namespace vkq::detail {

struct ShaderTableEntry {
  const char* name;      // variant name, unique
  const char* source;    // .comp file under shaders/
  const char* env;       // glslang/spirv-val target environment, e.g. "vulkan1.2"
  const char* features;  // comma-separated device features required, or "-"
  const char* defines;   // comma-separated preprocessor defines, or "-"
  const unsigned char* spirv;  // 4-byte aligned SPIR-V words
  unsigned long spirv_size;    // bytes
};

extern const ShaderTableEntry kShaderTable[];
extern const unsigned long kShaderTableSize;

}  // namespace vkq::detail
