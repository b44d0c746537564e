#!/usr/bin/env bash
# Builds Abseil with ThreadSanitizer from Debian's source package, the same
# version as the installed libabsl-dev, into $CODEC_TSAN_ROOT/abseil (default
# /opt/codec-tsan/abseil), so that absl::Mutex and the rest of Abseil are
# instrumented in the TSan build (.bazelrc's --config=tsan links it first).
# Cached: a second run with the library in place does nothing.
#
#   bash tests/tsan/build_abseil.sh
#
# Needs deb-src entries for Debian's archive (added here, beside the deb
# entries apt already has, when missing), dpkg-dev, cmake and ninja.
set -euo pipefail

root="${CODEC_TSAN_ROOT:-/opt/codec-tsan}"
prefix="$root/abseil"
version="$(dpkg-query -W -f='${Version}' libabsl-dev)"
stamp="$prefix/.built-from-$version"
if [[ -f "$stamp" ]]; then
  echo "build_abseil: $prefix already holds Abseil $version built with -fsanitize=thread"
  exit 0
fi

sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# deb-src for the suites and mirrors apt already uses.
if ! apt-get source --print-uris -qq "abseil=$version" >/dev/null 2>&1; then
  sources=/etc/apt/sources.list.d/codec-deb-src.sources
  echo "build_abseil: adding deb-src entries ($sources)"
  sed -n 's/^Types: deb$/Types: deb-src/p; /^URIs:\|^Suites:\|^Components:\|^Signed-By:\|^$/p' \
    /etc/apt/sources.list.d/debian.sources | sudo_if_needed tee "$sources" >/dev/null
  sudo_if_needed apt-get update -qq
fi

work="$root/src"
mkdir -p "$work"
cd "$work"
upstream="${version%%-*}"
if [[ ! -d "abseil-$upstream" ]]; then
  apt-get source -qq "abseil=$version"
fi
# Debian's own configuration of the shared build (debian/rules), plus TSan.
cmake -S "abseil-$upstream" -B build -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_C_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_TESTING=OFF >/dev/null
cmake --build build
cmake --install build >/dev/null
touch "$stamp"
echo "build_abseil: Abseil $version with -fsanitize=thread in $prefix/lib"
