#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (address + undefined-behaviour
# sanitizers) in build-fuzz/ and runs each for a bounded time on its seed
# corpus. Usage: scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
# New inputs that raise coverage go to build-fuzz/corpus/<name>/ (the seeds
# in tests/fuzz/corpus/ are read, never written); crashes are saved in
# build-fuzz/artifacts/ and fail the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_gguf_reader)
BUILD=${VKQ_FUZZ_BUILD_DIR:-build-fuzz}

if [ ! -f "$BUILD/build.ninja" ]; then
  # Warnings are not errors here: the code base is kept warning-free with the
  # default compiler (scripts/build.sh); clang's set differs.
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DVKQ_FUZZ=ON -DVKQ_SANITIZE=address,undefined -DVKQ_WERROR=OFF -DVKQ_BUILD_BENCHMARKS=OFF \
    >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log" >&2; exit 1; }
fi
cmake --build "$BUILD" -j "${VKQ_JOBS:-$(nproc)}" --target "${TARGETS[@]}"

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
status=0
for t in "${TARGETS[@]}"; do
  name=${t#fuzz_}
  case $name in gguf_reader) seeds=tests/fuzz/corpus/gguf ;; *) seeds=tests/fuzz/corpus/$name ;; esac
  mkdir -p "$BUILD/corpus/$name" "$BUILD/artifacts/$name"
  echo "== $t: ${SECONDS_PER_TARGET}s on $seeds"
  # -rss_limit_mb / -malloc_limit_mb: an allocation sized by an unchecked field is a finding.
  "$BUILD/fuzz/$t" "$BUILD/corpus/$name" "$seeds" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$name/" || status=$?
done
exit $status
