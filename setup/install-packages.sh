#!/usr/bin/env bash
# Installs the Debian packages of setup/debian-packages.txt that are missing
# (apt-get update first), as root or through sudo; says what it did.
set -euo pipefail
list="$(dirname "$0")/debian-packages.txt"
mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ "${#missing[@]}" = 0 ]; then
  echo "install-packages: all ${#packages[@]} Debian packages are installed"
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-packages: run as root (or install sudo)"; exit 1; }
  as_root=(sudo)
fi
echo "install-packages: installing ${#missing[@]} of ${#packages[@]} Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y "${missing[@]}"
