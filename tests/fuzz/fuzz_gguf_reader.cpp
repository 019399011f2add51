// libFuzzer target for the GGUF reader. The properties checked are in
// gguf_reader_checks.hpp (shared with tests/runtime/test_gguf_reader.cpp,
// which replays tests/fuzz/regressions/gguf/); the seeds are in
// tests/fuzz/corpus/gguf/.
#include "fuzz/fuzz_target.hpp"
#include "fuzz/gguf_reader_checks.hpp"

VKQ_FUZZ_TARGET(gguf_reader) { check_gguf_input(data, size); }
