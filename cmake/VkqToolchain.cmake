# Finds the shader toolchain and Vulkan headers and checks that they are new
# enough for vkq: GL_EXT_integer_dot_product and GL_KHR_cooperative_matrix in
# glslang and SPIRV-Tools, VK_KHR_cooperative_matrix and Vulkan-Hpp (RAII) in
# the headers. Looks first in VKQ_TOOLCHAIN_DIR (where scripts/setup.sh
# builds them when the system's are too old), then on the system.
#
# Defines: VKQ_GLSLANG, VKQ_SPIRV_VAL, VKQ_SPIRV_OPT (programs) and the
# interface target vkq::vulkan_headers.

set(_vkq_tc_default "$ENV{VKQ_TOOLCHAIN_DIR}")
if(NOT _vkq_tc_default)
  if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(_vkq_tc_default "$ENV{XDG_CACHE_HOME}/vkq/toolchain")
  else()
    set(_vkq_tc_default "$ENV{HOME}/.cache/vkq/toolchain")
  endif()
endif()
set(VKQ_TOOLCHAIN_DIR "${_vkq_tc_default}" CACHE PATH "Where scripts/setup.sh puts glslang, SPIRV-Tools and Vulkan headers")

set(_vkq_hint "Run scripts/setup.sh: it installs Debian's packages and, where they are too old (Debian 12), builds glslang/SPIRV-Tools from Debian 13 sources and unpacks Vulkan 1.4 headers into ${VKQ_TOOLCHAIN_DIR}.")
set(_vkq_probe_dir "${CMAKE_CURRENT_LIST_DIR}/probes")
set(_vkq_probe_out "${CMAKE_BINARY_DIR}/toolchain-probes")
file(MAKE_DIRECTORY "${_vkq_probe_out}")

# _vkq_tools_work(BINDIR OUTVAR): do glslang + spirv-val in BINDIR compile and
# validate each probe shader?
function(_vkq_tools_work bindir outvar)
  set(${outvar} FALSE PARENT_SCOPE)
  set(g "")
  foreach(n glslang glslangValidator)
    if(EXISTS "${bindir}/${n}")
      set(g "${bindir}/${n}")
      break()
    endif()
  endforeach()
  if(NOT g OR NOT EXISTS "${bindir}/spirv-val" OR NOT EXISTS "${bindir}/spirv-opt")
    return()
  endif()
  foreach(p int_dot coopmat coopmat2)
    execute_process(COMMAND "${g}" -V --target-env vulkan1.3 -o "${_vkq_probe_out}/${p}.spv" "${_vkq_probe_dir}/${p}.comp"
      RESULT_VARIABLE r OUTPUT_VARIABLE o ERROR_VARIABLE o)
    if(NOT r EQUAL 0)
      message(STATUS "vkq: ${g} cannot compile the ${p} probe (GL extension missing): ${o}")
      return()
    endif()
    execute_process(COMMAND "${bindir}/spirv-val" --target-env vulkan1.3 "${_vkq_probe_out}/${p}.spv"
      RESULT_VARIABLE r OUTPUT_VARIABLE o ERROR_VARIABLE o)
    if(NOT r EQUAL 0)
      message(STATUS "vkq: ${bindir}/spirv-val rejects the ${p} probe: ${o}")
      return()
    endif()
  endforeach()
  set(${outvar} TRUE PARENT_SCOPE)
  set(_vkq_found_glslang "${g}" PARENT_SCOPE)
endfunction()

if(NOT VKQ_GLSLANG OR NOT VKQ_SPIRV_VAL OR NOT VKQ_SPIRV_OPT)
  set(_ok FALSE)
  foreach(bindir "${VKQ_TOOLCHAIN_DIR}/bin" /usr/bin /usr/local/bin)
    _vkq_tools_work("${bindir}" _ok)
    if(_ok)
      set(VKQ_GLSLANG "${_vkq_found_glslang}" CACHE FILEPATH "glslang compiler" FORCE)
      set(VKQ_SPIRV_VAL "${bindir}/spirv-val" CACHE FILEPATH "spirv-val" FORCE)
      set(VKQ_SPIRV_OPT "${bindir}/spirv-opt" CACHE FILEPATH "spirv-opt" FORCE)
      break()
    endif()
  endforeach()
  if(NOT _ok)
    message(FATAL_ERROR "vkq: no glslang + SPIRV-Tools able to compile and validate GL_EXT_integer_dot_product, GL_KHR_cooperative_matrix and GL_NV_cooperative_matrix2 shaders (needs glslang >= 15 and SPIRV-Tools >= 2024.4; Debian 12 has glslang 12 and SPIRV-Tools 2022.4). Looked in ${VKQ_TOOLCHAIN_DIR}/bin, /usr/bin, /usr/local/bin. ${_vkq_hint}")
  endif()
endif()
execute_process(COMMAND "${VKQ_GLSLANG}" --version OUTPUT_VARIABLE _gv ERROR_QUIET)
string(REGEX MATCH "Glslang Version: [^\n]*" _gv "${_gv}")
message(STATUS "vkq: glslang ${VKQ_GLSLANG} (${_gv}), spirv-val ${VKQ_SPIRV_VAL}")

# Vulkan headers: VK_KHR_cooperative_matrix and VK_NV_cooperative_matrix2,
# header >= 1.3.301, Vulkan-Hpp RAII.
include(CheckCXXSourceCompiles)
set(_vkq_hdr_src "
#include <vulkan/vulkan_core.h>
#include <vulkan/vulkan_raii.hpp>
#ifndef VK_KHR_cooperative_matrix
#error VK_KHR_cooperative_matrix missing
#endif
#ifndef VK_NV_cooperative_matrix2
#error VK_NV_cooperative_matrix2 missing
#endif
#if VK_HEADER_VERSION < 301
#error Vulkan headers older than 1.3.301
#endif
int main() { vk::CooperativeMatrixPropertiesKHR p; (void)p; return 0; }")
if(NOT VKQ_VULKAN_INCLUDE_DIR)
  foreach(inc "${VKQ_TOOLCHAIN_DIR}/include" /usr/include)
    set(CMAKE_REQUIRED_INCLUDES "${inc}")
    set(CMAKE_REQUIRED_QUIET ON)
    string(MAKE_C_IDENTIFIER "VKQ_HDR_OK_${inc}" _var)
    check_cxx_source_compiles("${_vkq_hdr_src}" ${_var})
    if(${_var})
      set(VKQ_VULKAN_INCLUDE_DIR "${inc}" CACHE PATH "Vulkan headers with Vulkan-Hpp" FORCE)
      break()
    endif()
  endforeach()
  unset(CMAKE_REQUIRED_INCLUDES)
  if(NOT VKQ_VULKAN_INCLUDE_DIR)
    message(FATAL_ERROR "vkq: no Vulkan headers with VK_KHR_cooperative_matrix, VK_NV_cooperative_matrix2 and Vulkan-Hpp RAII (needs >= 1.3.301; Debian 12 has 1.3.239). Looked in ${VKQ_TOOLCHAIN_DIR}/include and /usr/include. ${_vkq_hint}")
  endif()
endif()
file(STRINGS "${VKQ_VULKAN_INCLUDE_DIR}/vulkan/vulkan_core.h" _hv REGEX "^#define VK_HEADER_VERSION ")
string(REGEX MATCH "[0-9]+" _hv "${_hv}")
message(STATUS "vkq: Vulkan headers ${VKQ_VULKAN_INCLUDE_DIR} (VK_HEADER_VERSION ${_hv})")

add_library(vkq_vulkan_headers INTERFACE)
add_library(vkq::vulkan_headers ALIAS vkq_vulkan_headers)
target_include_directories(vkq_vulkan_headers SYSTEM BEFORE INTERFACE "${VKQ_VULKAN_INCLUDE_DIR}")
# The loader is opened at run time (dlopen), so that a machine with no Vulkan
# loader gets a clear error (exit 3) rather than a failure to start.
target_compile_definitions(vkq_vulkan_headers INTERFACE
  VULKAN_HPP_DISPATCH_LOADER_DYNAMIC=1 VULKAN_HPP_ENABLE_DYNAMIC_LOADER_TOOL=0 VULKAN_HPP_NO_SMART_HANDLE=1)
target_link_libraries(vkq_vulkan_headers INTERFACE ${CMAKE_DL_LIBS})
