# cmake -DIN=x.spv -DOUT=x.spv.cpp -DSYMBOL=name -P vkq_embed_spirv.cmake
# Writes the SPIR-V words of IN as a 4-byte-aligned byte array named SYMBOL.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
math(EXPR rem "${bytes} % 4")
if(bytes EQUAL 0 OR NOT rem EQUAL 0)
  message(FATAL_ERROR "${IN}: not a SPIR-V module (${bytes} bytes)")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN}. Do not edit.\nalignas(4) extern const unsigned char ${SYMBOL}[] = {\n${body}\n};\nextern const unsigned long ${SYMBOL}_size = ${bytes};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
