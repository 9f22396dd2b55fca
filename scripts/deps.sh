#!/usr/bin/env bash
# Install what building and testing uaio needs from Debian, when missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libaio-dev liburing-dev libseccomp-dev
      fio qemu-utils man-db groff-base clang-format
      clang-14 libfuzzer-14-dev libfuse3-dev fuse3 mariadb-server mariadb-client)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "uaio: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "uaio: need root to install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
