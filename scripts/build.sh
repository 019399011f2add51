#!/usr/bin/env bash
# Configures (once) and builds vkq into build/ (the CLI lands at build/vkq).
# Extra arguments go to CMake's configure step, e.g. -DVKQ_SANITIZE=address,undefined.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${VKQ_BUILD_DIR:-build}
if [ ! -f "$BUILD/build.ninja" ] || [ $# -gt 0 ]; then
  mkdir -p "$BUILD"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "$@" >"$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log" >&2; exit 1; }
fi
cmake --build "$BUILD" -j "${VKQ_JOBS:-$(nproc)}"
