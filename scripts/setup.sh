#!/usr/bin/env bash
# vkq setup for Debian 12 (bookworm) and newer. Idempotent and quiet when
# everything is already there.
#
#  1. Installs the build and test dependencies from Debian's repositories:
#     compiler, CMake, Ninja, the Vulkan loader, Mesa's lavapipe (from
#     bookworm-backports on Debian 12: Mesa 25, Vulkan 1.4 on the CPU), the
#     Khronos validation layer, Catch2 3 (bookworm-backports), nlohmann-json,
#     CLI11, fmt, Eigen, tomlplusplus, and Chromium (headless, for the
#     scorecard HTML test).
#  2. If the system's glslang / SPIRV-Tools / Vulkan headers are too old for
#     GL_EXT_integer_dot_product, GL_KHR_cooperative_matrix,
#     GL_NV_cooperative_matrix2 and VK_KHR_cooperative_matrix /
#     VK_NV_cooperative_matrix2 (Debian 12: glslang 12, SPIRV-Tools 2022.4,
#     headers 1.3.239), builds glslang, SPIRV-Headers and SPIRV-Tools from
#     Debian 13's source packages and unpacks the Vulkan 1.4 headers
#     (Vulkan-Hpp included) from Debian 13's libvulkan-dev, into a cache
#     outside the source tree ($VKQ_TOOLCHAIN_DIR, default
#     ~/.cache/vkq/toolchain) that later runs reuse.
#
# Usage: scripts/setup.sh [--no-install]   (--no-install: only check/build toolchain)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

install_pkgs=1
[ "${1:-}" = "--no-install" ] && install_pkgs=0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

. /etc/os-release 2>/dev/null || true
codename=${VERSION_CODENAME:-unknown}

# --- 1. Debian packages ------------------------------------------------------
pkgs_main=(build-essential cmake ninja-build pkg-config python3 git ca-certificates
  dpkg-dev libvulkan-dev libvulkan1 vulkan-tools vulkan-validationlayers
  nlohmann-json3-dev libcli11-dev libfmt-dev libeigen3-dev libtomlplusplus-dev
  clang libclang-rt-dev chromium)
pkgs_new=(mesa-vulkan-drivers catch2)   # from bookworm-backports on Debian 12

missing() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out+=("$p")
  done
  echo "${out[@]:-}"
}
pkg_major() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed -E 's/^[0-9]+://; s/[.~+-].*//'; }

need_new_mesa_catch() {
  local m c
  m=$(pkg_major mesa-vulkan-drivers); c=$(pkg_major catch2)
  [ -z "$m" ] || [ "$m" -lt 24 ] || [ -z "$c" ] || [ "$c" -lt 3 ]
}

if [ $install_pkgs -eq 1 ]; then
  miss=$(missing "${pkgs_main[@]}")
  if [ -n "$miss" ] || need_new_mesa_catch; then
    if [ "$codename" = "bookworm" ]; then
      bp=/etc/apt/sources.list.d/vkq-bookworm-backports.sources
      if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "adding bookworm-backports to apt sources ($bp)"
        $SUDO tee "$bp" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      fi
    fi
    say "installing packages: ${miss:-} ${pkgs_new[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${pkgs_main[@]}" >/dev/null
    if [ "$codename" = "bookworm" ]; then
      $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${pkgs_new[@]}" >/dev/null
    else
      $SUDO apt-get install -y -qq --no-install-recommends "${pkgs_new[@]}" >/dev/null
    fi
  fi
fi

# --- 2. Shader toolchain and Vulkan headers ------------------------------------
"$here/toolchain.sh"
