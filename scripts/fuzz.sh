#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang and the
# address + undefined-behaviour sanitizers in build-fuzz/, and runs each on
# its seed corpus for a bounded time or a number of executions.
#   scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]   (default: every target)
#   VKQ_FUZZ_RUNS=N scripts/fuzz.sh 0 TARGET    N executions instead of a time
#   scripts/fuzz.sh --configure-only            configure build-fuzz/ and stop (scripts/sanitize.sh)
#   VKQ_FUZZ_PROCS=N     N processes per target at once, sharing its corpus
#                        (executions are summed; each has its own log)
#   VKQ_FUZZ_BIN_DIR=D   run the targets in D as they are, building nothing
#                        (the GPU machine: benchmarks/bundle.sh VKQ_BUNDLE_FUZZ=1)
#   VKQ_FUZZ_NICE=N      run them under nice -n N (beside a benchmark)
# New inputs that raise coverage go to build-fuzz/corpus/<name>/ (the seeds in
# tests/fuzz/corpus/<name>/ are read, never written); crashes, leaks and
# timeouts are saved in build-fuzz/artifacts/<name>/ and fail the script.
# Each run ends with a line "fuzz: TARGET: N executions in S s, ...".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CONFIGURE_ONLY=0
if [ "${1:-}" = --configure-only ]; then CONFIGURE_ONLY=1; shift; fi  # scripts/sanitize.sh shares the build
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do TARGETS+=("$(basename "$f" .cpp)"); done
fi
BUILD=${VKQ_FUZZ_BUILD_DIR:-build-fuzz}
BIN=${VKQ_FUZZ_BIN_DIR:-$BUILD/fuzz}
PROCS=${VKQ_FUZZ_PROCS:-1}

if [ -n "${VKQ_FUZZ_BIN_DIR:-}" ]; then
  mkdir -p "$BUILD"
elif [ ! -f "$BUILD/build.ninja" ]; then
  # Warnings are not errors here: the code base is kept warning-free with the
  # default compiler (scripts/build.sh); clang's set differs.
  mkdir -p "$BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DVKQ_FUZZ=ON -DVKQ_SANITIZE=address,undefined -DVKQ_WERROR=OFF -DVKQ_BUILD_BENCHMARKS=OFF -DVKQ_QUANT_AVX2=OFF \
    >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log" >&2; exit 1; }
fi
[ "$CONFIGURE_ONLY" = 0 ] || exit 0
[ -n "${VKQ_FUZZ_BIN_DIR:-}" ] || cmake --build "$BUILD" -j "${VKQ_JOBS:-$(nproc)}" --target "${TARGETS[@]}"

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
status=0
for t in "${TARGETS[@]}"; do
  name=${t#fuzz_}
  case $name in gguf_reader) seeds=tests/fuzz/corpus/gguf ;; *) seeds=tests/fuzz/corpus/$name ;; esac
  # Inputs up to a few times the largest seed: longer ones add time, not paths.
  case $name in gguf_reader) max_len=65536 ;; llama2c_* | eval_set) max_len=16384 ;; scorecard_json) max_len=32768 ;; *) max_len=4096 ;; esac
  mkdir -p "$BUILD/corpus/$name" "$BUILD/artifacts/$name"
  extra=()
  if [ "$name" = llama2c_tokenizer ]; then
    # stories260K's real vocabulary as one more seed, from VKQ_MODELS_DIR (not
    # in the repository): its token count (u16 LE) and then the file.
    tok="${VKQ_MODELS_DIR:-../shared/models}/tok512.bin"
    if [ -f "$tok" ]; then
      mkdir -p "$BUILD/model-seeds/$name"
      { printf '\x00\x02'; cat "$tok"; } > "$BUILD/model-seeds/$name/tok512.seed"
      extra=("$BUILD/model-seeds/$name")
    fi
  fi
  if [ -n "${VKQ_FUZZ_RUNS:-}" ]; then limit=(-runs="$VKQ_FUZZ_RUNS"); what="$VKQ_FUZZ_RUNS executions"
  else limit=(-max_total_time="$SECONDS_PER_TARGET"); what="${SECONDS_PER_TARGET}s"; fi
  echo "== $t: $what on $seeds, $PROCS process(es)"
  start=$(date +%s)
  # -rss_limit_mb / -malloc_limit_mb: an allocation sized by an unchecked field is a finding.
  pids=()
  rm -f "$BUILD/artifacts/$name"/last-run*.log
  for p in $(seq 1 "$PROCS"); do
    log="$BUILD/artifacts/$name/last-run.log"
    [ "$PROCS" = 1 ] || log="$BUILD/artifacts/$name/last-run.$p.log"
    nice -n "${VKQ_FUZZ_NICE:-0}" "$BIN/$t" "$BUILD/corpus/$name" "$seeds" ${extra[@]+"${extra[@]}"} "${limit[@]}" \
      -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len="$max_len" -print_final_stats=1 \
      -artifact_prefix="$BUILD/artifacts/$name/" >"$log" 2>&1 &
    pids+=($!)
  done
  rc=0
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  execs=0 peak=0
  for log in "$BUILD/artifacts/$name"/last-run*.log; do
    # The report without libFuzzer's progress lines and recommended dictionary.
    grep -v -e '^#[0-9]' -e '^"' -e '^###### ' "$log" | tail -n 40 >&2 || true
    e=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    m=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    execs=$((execs + ${e:-0}))
    [ "${m:-0}" -le "$peak" ] || peak=$m
  done
  echo "fuzz: $t: $execs executions in $(( $(date +%s) - start )) s ($PROCS process(es)), peak RSS $peak MB, exit $rc"
  [ "$rc" -eq 0 ] || status=$rc
done
exit $status
