# Fails the build if the AVX2 kernels' object defines a weak (COMDAT) symbol
# outside the renamed Eigen and its own namespace: the linker keeps one copy
# of each weak symbol for the whole program, so an AVX2 copy of, say, a
# standard-library inline function could run on a CPU without AVX2.
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} -C --defined-only ${obj} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm failed on ${obj}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-fA-F]+ [WVu] (.*)$")
      set(sym "${CMAKE_MATCH_1}")
      if(NOT sym MATCHES "vkq_eigen_avx2|vkq::quant::kernels_avx2|^DW\\.ref\\.")
        message(FATAL_ERROR "AVX2 kernels: weak symbol outside the renamed Eigen: ${sym}")
      endif()
    endif()
  endforeach()
endforeach()
