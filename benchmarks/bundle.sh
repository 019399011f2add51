#!/usr/bin/env bash
# Packs the built CLI and the shared libraries it needs beyond the Vulkan
# loader and libc into .device/ (git-ignored), for carrying to a GPU machine
# that is not Debian. Builds nothing: run scripts/build.sh first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${VKQ_BUILD_DIR:-build}
[ -x "$BUILD/vkq" ] || { echo "bundle: $BUILD/vkq missing; run scripts/build.sh" >&2; exit 1; }
rm -rf .device && mkdir -p .device/lib
strip -o .device/vkq "$BUILD/vkq"
ldd "$BUILD/vkq" | awk '/=>/ {print $3}' | grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" .device/lib/; done
cp benchmarks/*.sh benchmarks/*.py .device/
# VKQ_BUNDLE_FUZZ=1 (or a list of target names): the libFuzzer targets too
# (scripts/fuzz.sh builds them in build-fuzz/; debug info stripped, symbols
# kept for the sanitizers' reports) and the tokenizer the llama2c_tokenizer
# target seeds from (VKQ_MODELS_DIR).
if [ -n "${VKQ_BUNDLE_FUZZ:-}" ] && [ "$VKQ_BUNDLE_FUZZ" != 0 ]; then
  mkdir -p .device/fuzz .device/models
  for f in "${VKQ_FUZZ_BUILD_DIR:-build-fuzz}"/fuzz/fuzz_*; do
    t=$(basename "$f")
    [ "$VKQ_BUNDLE_FUZZ" = 1 ] || [[ " $VKQ_BUNDLE_FUZZ " == *" $t "* ]] || continue
    strip --strip-debug -o ".device/fuzz/$t" "$f"
  done
  cp "${VKQ_MODELS_DIR:-../shared/models}/tok512.bin" .device/models/
fi
echo "bundle: $(du -sh .device | cut -f1) in .device/ (carry it with .gl)"
