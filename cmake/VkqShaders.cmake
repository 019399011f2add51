# Shader build: one variant table (shaders/variants.txt) lists every compute
# shader variant as
#     name  source  target-env  features  defines  opt
# Each variant is compiled by glslang (with a depfile, so editing one shader or
# include rebuilds only the variants that use it), validated by spirv-val for
# its target environment (failure fails the build), optimised by spirv-opt
# where the table says it is safe (validated again), and embedded into the
# library as a byte array. A generated registry lists all variants with their
# table columns, so the runtime looks variants up by name and checks the
# features each one needs.

set(VKQ_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/vkq_embed_spirv.cmake")

# vkq_parse_variant_table(FILE PREFIX): sets PREFIX_NAMES and, per name N,
# PREFIX_N_SOURCE / _ENV / _FEATURES / _DEFINES / _OPT.
function(vkq_parse_variant_table file prefix)
  file(STRINGS "${file}" lines)
  set(names "")
  set(lineno 0)
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    string(REGEX REPLACE "#.*$" "" line "${line}")
    string(STRIP "${line}" line)
    if(line STREQUAL "")
      continue()
    endif()
    string(REGEX REPLACE "[ \t]+" ";" cols "${line}")
    list(LENGTH cols n)
    if(NOT n EQUAL 6)
      message(FATAL_ERROR "${file}:${lineno}: expected 6 columns (name source env features defines opt), got ${n}: ${line}")
    endif()
    list(GET cols 0 name)
    if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
      message(FATAL_ERROR "${file}:${lineno}: variant name '${name}' must be lower-case letters, digits and '_'")
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "${file}:${lineno}: duplicate variant '${name}'")
    endif()
    list(APPEND names ${name})
    list(GET cols 1 src)
    list(GET cols 2 env)
    list(GET cols 3 feat)
    list(GET cols 4 defs)
    list(GET cols 5 opt)
    if(NOT env MATCHES "^vulkan1\\.[0-4]$")
      message(FATAL_ERROR "${file}:${lineno}: target env '${env}' must be vulkan1.0 .. vulkan1.4")
    endif()
    if(NOT opt MATCHES "^(opt|noopt)$")
      message(FATAL_ERROR "${file}:${lineno}: last column must be 'opt' or 'noopt'")
    endif()
    set(${prefix}_${name}_SOURCE "${src}" PARENT_SCOPE)
    set(${prefix}_${name}_ENV "${env}" PARENT_SCOPE)
    set(${prefix}_${name}_FEATURES "${feat}" PARENT_SCOPE)
    set(${prefix}_${name}_DEFINES "${defs}" PARENT_SCOPE)
    set(${prefix}_${name}_OPT "${opt}" PARENT_SCOPE)
  endforeach()
  set(${prefix}_NAMES "${names}" PARENT_SCOPE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
endfunction()

# vkq_add_shader_library(TARGET TABLE): compiles every variant of TABLE and
# makes a static library TARGET holding the embedded SPIR-V and the registry
# table (see runtime/shader_registry.hpp for the C++ side).
function(vkq_add_shader_library target table)
  vkq_parse_variant_table("${table}" V)
  get_filename_component(srcdir "${table}" DIRECTORY)
  set(outdir "${CMAKE_CURRENT_BINARY_DIR}/spirv")
  file(MAKE_DIRECTORY "${outdir}")
  set(gen_sources "")
  set(decls "")
  set(entries "")
  foreach(name IN LISTS V_NAMES)
    set(src "${srcdir}/${V_${name}_SOURCE}")
    if(NOT EXISTS "${src}")
      message(FATAL_ERROR "${table}: variant '${name}' names source '${V_${name}_SOURCE}', which does not exist")
    endif()
    set(env "${V_${name}_ENV}")
    set(defflags "")
    if(NOT V_${name}_DEFINES STREQUAL "-")
      string(REPLACE "," ";" defs "${V_${name}_DEFINES}")
      foreach(d IN LISTS defs)
        list(APPEND defflags "-D${d}")
      endforeach()
    endif()
    set(raw "${outdir}/${name}.raw.spv")
    set(spv "${outdir}/${name}.spv")
    set(cpp "${outdir}/${name}.spv.cpp")
    set(dep "${outdir}/${name}.d")
    if(V_${name}_OPT STREQUAL "opt")
      set(optcmd COMMAND "${VKQ_SPIRV_OPT}" -O --target-env=${env} "${raw}" -o "${spv}"
                 COMMAND "${VKQ_SPIRV_VAL}" --target-env ${env} "${spv}")
    else()
      set(optcmd COMMAND ${CMAKE_COMMAND} -E copy "${raw}" "${spv}")
    endif()
    # The raw module is listed first: glslang's depfile names it, and Ninja
    # matches a depfile against the first output.
    add_custom_command(
      OUTPUT "${raw}" "${spv}" "${cpp}"
      COMMAND "${VKQ_GLSLANG}" -V --target-env ${env} -I${srcdir} -I${srcdir}/common ${defflags}
              --depfile "${dep}" -o "${raw}" "${src}"
      COMMAND "${VKQ_SPIRV_VAL}" --target-env ${env} "${raw}"
      ${optcmd}
      COMMAND ${CMAKE_COMMAND} -DIN=${spv} -DOUT=${cpp} -DSYMBOL=vkq_spirv_${name} -P "${VKQ_EMBED_SCRIPT}"
      DEPENDS "${src}" "${VKQ_EMBED_SCRIPT}" "${table}"
      DEPFILE "${dep}"
      COMMENT "SPIR-V ${name} (${V_${name}_SOURCE}, ${env})"
      VERBATIM)
    list(APPEND gen_sources "${cpp}")
    string(APPEND decls "extern const unsigned char vkq_spirv_${name}[];\nextern const unsigned long vkq_spirv_${name}_size;\n")
    string(APPEND entries "  {\"${name}\", \"${V_${name}_SOURCE}\", \"${env}\", \"${V_${name}_FEATURES}\", \"${V_${name}_DEFINES}\", vkq_spirv_${name}, vkq_spirv_${name}_size},\n")
  endforeach()
  set(table_cpp "${CMAKE_CURRENT_BINARY_DIR}/shader_table.cpp")
  file(CONFIGURE OUTPUT "${table_cpp}" CONTENT "// Generated from shaders/variants.txt by cmake/VkqShaders.cmake. Do not edit.
#include \"shader_table.hpp\"
${decls}
namespace vkq::detail {
const ShaderTableEntry kShaderTable[] = {
${entries}};
const unsigned long kShaderTableSize = sizeof(kShaderTable) / sizeof(kShaderTable[0]);
}  // namespace vkq::detail
" @ONLY)
  add_library(${target} STATIC ${gen_sources} "${table_cpp}")
  target_include_directories(${target} PUBLIC "${CMAKE_SOURCE_DIR}/shaders")
endfunction()
