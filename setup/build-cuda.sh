#!/usr/bin/env bash
# The CUDA build: every CMake target (server, tool, client, benches, tests)
# with CODEC_WITH_CUDA on, against the libtorch users deploy on GPUs, PyPI's
# torch 2.11.0 (CUDA 13.0), in its pinned virtual environment
# (setup/venvs/torch.txt, made by setup/python-venv.sh if missing), with the
# CUDA toolkit of /usr/local/cuda and the other libraries from Debian
# (setup/debian-packages.txt). It builds and runs on a machine without a GPU
# (the CPU tests run on the wheel's CPU kernels); CI runs it, then ctest in
# BUILD_DIR, and tests/cuda/run.sh builds with it on a GPU machine.
#
#   setup/build-cuda.sh BUILD_DIR [TARGET...]     (default: every target)
#
# CODEC_CUDA_HOME names another toolkit; CODEC_DEPS_PREFIX a folder of Debian
# packages unpacked with dpkg -x (tests/cuda/pack_deps.sh) where they are not
# installed; CODEC_TORCH_PYTHON a Python whose torch to build against instead
# of the venv's (a machine that cannot reach PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(realpath -m "${1:?usage: build-cuda.sh BUILD_DIR [TARGET...]}")"
shift
cuda_home="${CODEC_CUDA_HOME:-/usr/local/cuda}"
[ -x "$cuda_home/bin/nvcc" ] || { echo "build-cuda: no nvcc in $cuda_home/bin (CODEC_CUDA_HOME)"; exit 1; }
# A machine without PyPI (a lent GPU machine) names its own torch's Python.
python="${CODEC_TORCH_PYTHON:-$(setup/python-venv.sh torch)/bin/python}"
pinned="$(sed -n 's/^torch==//p' setup/venvs/torch.txt)"
version="$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null)" ||
  { echo "build-cuda: $python has no torch"; exit 1; }
[ "${version%%+*}" = "$pinned" ] ||
  echo "build-cuda: WARNING: torch $version, not the pinned $pinned (setup/venvs/torch.txt)"
torch_prefix="$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
echo "build-cuda: torch $version at $torch_prefix, CUDA toolkit $cuda_home"

start=$SECONDS
PATH="$cuda_home/bin:$PATH" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix" -DCODEC_WITH_CUDA=ON \
  -DCUDAToolkit_ROOT="$cuda_home" -DCMAKE_CUDA_COMPILER="$cuda_home/bin/nvcc" \
  ${CODEC_DEPS_PREFIX:+-DCODEC_DEPS_PREFIX="$CODEC_DEPS_PREFIX"}
echo "build-cuda: configured in $((SECONDS - start)) s"
start=$SECONDS
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build" "${targets[@]}"
echo "build-cuda: built in $((SECONDS - start)) s"
