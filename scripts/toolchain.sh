#!/usr/bin/env bash
# Makes sure a shader toolchain new enough for vkq's shaders exists:
# glslang with GL_EXT_integer_dot_product, GL_KHR_cooperative_matrix and
# GL_NV_cooperative_matrix2, SPIRV-Tools (spirv-val, spirv-opt) that
# understand them, and Vulkan headers (with Vulkan-Hpp) that declare
# VK_KHR_cooperative_matrix and VK_NV_cooperative_matrix2.
#
# The system's tools are used when they pass the feature checks below.
# Otherwise they are built from Debian 13 (trixie) source packages into
# $VKQ_TOOLCHAIN_DIR (default ~/.cache/vkq/toolchain), outside the source
# tree, and reused by later runs. Prints nothing when all is in place.
set -euo pipefail

TC=${VKQ_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vkq/toolchain}
SUITE=${VKQ_TOOLCHAIN_SUITE:-trixie}
JOBS=${VKQ_JOBS:-$(nproc)}
say() { echo "toolchain: $*" >&2; }
die() { echo "toolchain: error: $*" >&2; exit 1; }

probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT

# One probe shader per extension: the same files CMake compiles
# (cmake/VkqToolchain.cmake) and the build validates (shaders/variants.txt).
probes="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cmake/probes"
cat >"$probe_dir/hdr.c" <<'C'
#include <vulkan/vulkan_core.h>
#ifndef VK_KHR_cooperative_matrix
#error no VK_KHR_cooperative_matrix
#endif
#ifndef VK_NV_cooperative_matrix2
#error no VK_NV_cooperative_matrix2
#endif
#if VK_HEADER_VERSION < 301
#error Vulkan headers too old
#endif
int main(void) { return 0; }
C

# tools_ok BINDIR: glslang in BINDIR compiles the probes and spirv-val accepts them.
tools_ok() {
  local bin=$1 g
  g="$bin/glslang"; [ -x "$g" ] || g="$bin/glslangValidator"
  [ -x "$g" ] && [ -x "$bin/spirv-val" ] && [ -x "$bin/spirv-opt" ] || return 1
  for s in int_dot coopmat coopmat2; do
    "$g" -V --target-env vulkan1.3 -o "$probe_dir/$s.spv" "$probes/$s.comp" >/dev/null 2>&1 || return 1
    "$bin/spirv-val" --target-env vulkan1.3 "$probe_dir/$s.spv" >/dev/null 2>&1 || return 1
  done
}
headers_ok() { # headers_ok [INCLUDE_DIR]
  local inc=()
  [ -n "${1:-}" ] && inc=(-I "$1")
  cc "${inc[@]}" -o "$probe_dir/hdr" "$probe_dir/hdr.c" >/dev/null 2>&1 &&
    [ -f "${1:-/usr/include}/vulkan/vulkan.hpp" ] && [ -f "${1:-/usr/include}/vulkan/vulkan_raii.hpp" ]
}

sys_tools=0; sys_headers=0
tools_ok /usr/bin && sys_tools=1
headers_ok && sys_headers=1
if [ $sys_tools = 1 ] && [ $sys_headers = 1 ]; then
  exit 0   # the distribution's packages are new enough
fi

tc_tools=0; tc_headers=0
tools_ok "$TC/bin" && tc_tools=1
headers_ok "$TC/include" && tc_headers=1
if { [ $sys_tools = 1 ] || [ $tc_tools = 1 ]; } && { [ $sys_headers = 1 ] || [ $tc_headers = 1 ]; }; then
  exit 0   # cached build from an earlier run
fi

say "system glslang/SPIRV-Tools/Vulkan headers are too old for vkq's shaders;"
say "building them from Debian '$SUITE' sources into $TC (one time, a few minutes)"
for t in cmake cc c++ tar apt-get; do command -v $t >/dev/null || die "'$t' is missing (run scripts/setup.sh)"; done

work="$TC/.work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src" "$TC"
cat >"$work/suite.sources" <<SRC
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
# A private apt configuration: the system's sources are left untouched.
apt_o=(-o "Dir::Etc::SourceList=$work/suite.sources" -o Dir::Etc::SourceParts=/dev/null
       -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
apt-get "${apt_o[@]}" update -qq >/dev/null 2>&1 || die "apt-get update for '$SUITE' failed (network or mirror?)"

cd "$work/src"
fetch_orig() { # fetch_orig SRCPKG -> prints the unpacked source dir
  local p=$1 tarball
  tarball=$(ls ${p}_*.orig.tar.* 2>/dev/null | head -1 || true)
  if [ -z "$tarball" ]; then
    apt-get "${apt_o[@]}" source --download-only -qq "$p" >/dev/null 2>&1 || true
    tarball=$(ls ${p}_*.orig.tar.* 2>/dev/null | head -1 || true)
    [ -n "$tarball" ] || die "could not download the '$p' source package from '$SUITE'"
  fi
  local top
  top=$(tar tf "$tarball" | head -1 | cut -d/ -f1)
  [ -d "$top" ] || tar xf "$tarball"
  echo "$work/src/$top"
}

if [ $sys_tools = 0 ] && [ $tc_tools = 0 ]; then
  hdr_src=$(fetch_orig spirv-headers)
  tools_src=$(fetch_orig spirv-tools)
  glslang_src=$(fetch_orig glslang)
  say "building SPIRV-Headers"
  cmake -S "$hdr_src" -B "$work/build-headers" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$TC" -DSPIRV_HEADERS_ENABLE_TESTS=OFF >"$work/headers.log" 2>&1 &&
    cmake --build "$work/build-headers" --target install >>"$work/headers.log" 2>&1 ||
    die "SPIRV-Headers build failed, see $work/headers.log"
  say "building SPIRV-Tools (the longest step)"
  cmake -S "$tools_src" -B "$work/build-tools" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$TC" -DSPIRV-Headers_SOURCE_DIR="$hdr_src" \
    -DSPIRV_SKIP_TESTS=ON -DSPIRV_WERROR=OFF -DSPIRV_TOOLS_BUILD_STATIC=ON -DBUILD_SHARED_LIBS=OFF \
    >"$work/tools.log" 2>&1 &&
    cmake --build "$work/build-tools" -j "$JOBS" --target install >>"$work/tools.log" 2>&1 ||
    die "SPIRV-Tools build failed, see $work/tools.log"
  say "building glslang"
  cmake -S "$glslang_src" -B "$work/build-glslang" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$TC" -DCMAKE_PREFIX_PATH="$TC" -DENABLE_HLSL=OFF -DGLSLANG_TESTS=OFF \
    -DBUILD_TESTING=OFF -DENABLE_OPT=ON -DALLOW_EXTERNAL_SPIRV_TOOLS=ON -DBUILD_SHARED_LIBS=OFF \
    -DENABLE_GLSLANG_JS=OFF >"$work/glslang.log" 2>&1 &&
    cmake --build "$work/build-glslang" -j "$JOBS" --target install >>"$work/glslang.log" 2>&1 ||
    die "glslang build failed, see $work/glslang.log"
  tools_ok "$TC/bin" || die "the built glslang/SPIRV-Tools in $TC/bin fail the extension checks"
fi

if [ $sys_headers = 0 ] && [ $tc_headers = 0 ]; then
  say "unpacking Vulkan headers from '$SUITE' libvulkan-dev"
  rm -f libvulkan-dev_*.deb
  apt-get "${apt_o[@]}" download -qq libvulkan-dev >/dev/null 2>&1 || die "could not download libvulkan-dev from '$SUITE'"
  rm -rf "$work/hdr" && mkdir -p "$work/hdr" && dpkg-deb -x libvulkan-dev_*.deb "$work/hdr"
  mkdir -p "$TC/include"
  cp -r "$work/hdr/usr/include/vulkan" "$work/hdr/usr/include/vk_video" "$TC/include/"
  headers_ok "$TC/include" || die "Vulkan headers in $TC/include fail the checks"
fi
# Keep the cache small: sources and build trees are not needed any more.
rm -rf "$work/build-headers" "$work/build-tools" "$work/build-glslang" "$work/hdr" "$work/src"/*/
say "toolchain ready in $TC"
