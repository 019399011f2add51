#!/usr/bin/env bash
# Fetches stories260K (llama2.c's 260K-parameter TinyStories model, MIT
# licence) and its tokenizer for the scorecard demo, from their public
# source (https://huggingface.co/karpathy/tinyllamas/tree/main/stories260K),
# into $VKQ_CACHE_DIR/models (default ~/.cache/vkq/models), and checks their
# sha256. Does nothing when a models folder vkq searches already has both
# ($VKQ_MODELS_DIR, ../shared/models beside the clone, that cache). Tests
# never need it: they use ../shared/models or skip.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "get_models: $*" >&2; }

files=(stories260K.bin tok512.bin)
declare -A sha=(
  [stories260K.bin]=b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696
  [tok512.bin]=037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312
)
cache=${VKQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vkq}
dest="$cache/models"

for d in "${VKQ_MODELS_DIR:-}" "$here/../../shared/models" "$dest"; do
  [ -n "$d" ] || continue
  [ -f "$d/stories260K.bin" ] && [ -f "$d/tok512.bin" ] && exit 0
done

fetch() {  # URL OUT
  if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -q -O "$2" "$1"
  else python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
  fi
}

mkdir -p "$dest"
base=https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K
for f in "${files[@]}"; do
  [ -f "$dest/$f" ] && continue
  say "downloading $f into $dest"
  tmp=$(mktemp "$dest/$f.XXXXXX")
  fetch "$base/$f" "$tmp" || { rm -f "$tmp"; say "error: cannot download $base/$f"; exit 1; }
  got=$(sha256sum "$tmp" | cut -d' ' -f1)
  if [ "$got" != "${sha[$f]}" ]; then
    rm -f "$tmp"
    say "error: $f has sha256 $got, expected ${sha[$f]}"
    exit 1
  fi
  mv "$tmp" "$dest/$f"
done
