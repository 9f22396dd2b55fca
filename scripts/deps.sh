#!/usr/bin/env bash
# Install what building and testing uaio needs from Debian, when missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libaio-dev liburing-dev libseccomp-dev
      fio qemu-utils man-db groff-base clang-format
      clang-14 libfuzzer-14-dev libfuse3-dev fuse3 mariadb-server mariadb-client
      dpkg-dev valgrind)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# libaio's own test harness comes with its source package.
here=$(cd "$(dirname "$0")/.." && pwd)
libaio_src=$here/build-deps/libaio
need_src=0
[ -f "$libaio_src/harness/Makefile" ] || need_src=1
[ ${#missing[@]} -eq 0 ] && [ $need_src -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "uaio: need root to install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
	echo "uaio: installing ${missing[*]}" >&2
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $need_src -eq 1 ]; then
	# apt-get source needs the deb-src entries Debian ships disabled.
	srcs=/etc/apt/sources.list.d/debian.sources
	if [ -f "$srcs" ] && ! grep -q "deb-src" "$srcs"; then
		echo "uaio: enabling deb-src in $srcs (for apt-get source libaio)" >&2
		$sudo sed -i 's/^Types: deb$/Types: deb deb-src/' "$srcs"
		$sudo apt-get update -qq
	fi
	tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get source -qq libaio >/dev/null 2>&1); then
		mkdir -p "$here/build-deps"
		rm -rf "$libaio_src"
		mv "$tmp"/libaio-*/ "$libaio_src"
	else
		echo "uaio: apt-get source libaio failed: the libaio harness test will be skipped" >&2
	fi
	rm -rf "$tmp"
fi
