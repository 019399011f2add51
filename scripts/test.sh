#!/usr/bin/env bash
# Builds vkq and runs the whole test suite through ctest. GPU tests run on
# the first Vulkan device (lavapipe on a machine without a GPU) with the
# Khronos validation layer on; any validation message fails the test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/build.sh
cd "${VKQ_BUILD_DIR:-build}"
ctest -j "${VKQ_JOBS:-$(nproc)}" --output-on-failure --timeout 1800 "$@"
