#!/usr/bin/env bash
# Packs what the CMake build needs besides libtorch and CUDA, for a GPU
# machine that has neither Debian's packages nor a network: downloads
# Debian's packages of gRPC, Protobuf, Abseil, GoogleTest, oneDNN and the
# audio libraries (with the runtime libraries they need), unpacks them into
# one folder with `dpkg -x`, and writes it as a tarball whose `DEPS` folder
# is CMakeLists.txt's CODEC_DEPS_PREFIX (tests/cuda/run.sh unpacks it).
# Run on a Debian machine:  tests/cuda/pack_deps.sh OUT.tar.xz
set -euo pipefail
out="$(realpath -m "${1:?usage: pack_deps.sh OUT.tar.xz}")"
packages=(
  libabsl-dev libabsl20220623
  libgrpc++-dev libgrpc-dev libgrpc++1.51 libgrpc29 protobuf-compiler-grpc
  libprotobuf-dev libprotobuf32 libprotobuf-lite32 libprotoc32 protobuf-compiler
  libre2-dev libre2-9 libc-ares-dev libc-ares2 libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest nlohmann-json3-dev
  libdnnl-dev libdnnl2 libsleef-dev libsleef3 ocl-icd-libopencl1
  libsndfile1-dev libsndfile1 libflac12 libvorbis0a libvorbisenc2 libogg0 libopus0
  libmpg123-0 libmp3lame0 libsoxr-dev libsoxr0
  prometheus-cpp-dev libprometheus-cpp-core1.0
)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}" >/dev/null)
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/DEPS"; done
# Documentation and manuals are not needed to build.
rm -rf "$work/DEPS/usr/share/doc" "$work/DEPS/usr/share/man"
tar -C "$work" -cJf "$out" DEPS
echo "$out: $(du -h "$out" | cut -f1)"
