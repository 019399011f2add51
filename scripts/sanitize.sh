#!/usr/bin/env bash
# Builds the test suite and the CLI with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang, in build-fuzz/: the same configuration
# as scripts/fuzz.sh, so one sanitizer build serves both) and runs the tests
# whose tags are given, on lavapipe with the validation layer as usual.
#   scripts/sanitize.sh [CATCH2-TEST-SPEC]    default: $VKQ_SANITIZE_TESTS
# The default spec is the parsers, eval, scorecard, quantizer, fault and
# fuzz-replay tests and the forward pass: not the long kernel sweeps, the
# soak test or the CLI tests (the sanitized CLI in subprocesses), which
# under the sanitizers' 2-3x slowdown would not fit CI's time
# (docs/reliability.md has the times). VKQ_SANITIZE_TESTS='...,[cli]~[demo]~[html]'
# adds the CLI tests.
# A sanitizer report aborts the test binary (halt_on_error), so any finding
# fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${VKQ_FUZZ_BUILD_DIR:-build-fuzz}
SPEC=${1:-${VKQ_SANITIZE_TESTS:-"[gguf],[llama2c],[tokenizer],[sampler],[eval],[quant],[fault],[fuzz],[forward],[fit]"}}

scripts/fuzz.sh --configure-only
cmake --build "$BUILD" -j "${VKQ_JOBS:-$(nproc)}" --target vkq_tests vkq

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Leaks in the Vulkan driver and the validation layer are theirs, not vkq's.
export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export VKQ_VALIDATION=1 VKQ_CACHE_DIR=$PWD/$BUILD/test-cache VKQ_CLI=$PWD/$BUILD/vkq
start=$(date +%s)
"$BUILD/tests/vkq_tests" "$SPEC" --durations no
echo "sanitize: $SPEC passed in $(( $(date +%s) - start )) s"
