#!/usr/bin/env bash
# Fetches what the lent GPU machine needs to run vkq, as .deb files in .gl/
# (git-ignored): the Vulkan loader (../shared/device/prepare.sh) and libglvnd,
# without which NVIDIA's ICD (libGLX_nvidia.so.0) cannot create an instance.
# Then bundles the built CLI into .device/ (benchmarks/bundle.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .git/info 2>/dev/null || true
../shared/device/prepare.sh >/dev/null
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
(cd .gl && apt-get $o download -qq libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 >/dev/null 2>&1)
benchmarks/bundle.sh
echo "carry .gl and .device; run: bash .device/h100_kernels.sh [table|tune|quick]"
