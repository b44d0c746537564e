#!/usr/bin/env bash
# The CUDA build and its checks, on a machine with a GPU, CUDA, CMake, ninja
# and a Python torch built with CUDA (its libtorch is the one built
# against). Builds with setup/build-cuda.sh (CI's recipe), then on cuda:0
# runs the parity tests against the reference fixtures, the
# batched-against-alone tests, the count of what a batched step dispatches,
# and the batch benchmark of full-size SNAC decode, EnCodec encode and Mimi
# streams.
#
#   tests/cuda/run.sh BUILD_DIR REPORT_DIR [DEPS]
#
# DEPS: what tests/cuda/pack_deps.sh made on a Debian machine (the tarball,
# or the DEPS folder it holds), where gRPC, Protobuf and Abseil are not
# installed. Each step's log is written to REPORT_DIR as it runs; the script
# goes on after a failed step and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
build="$(realpath -m "${1:?usage: run.sh BUILD_DIR REPORT_DIR [DEPS]}")"
report="$(realpath -m "${2:?usage: run.sh BUILD_DIR REPORT_DIR [DEPS]}")"
deps="${3:-}"
mkdir -p "$build" "$report"
failed=0

# step NAME COMMAND...: runs it with its output in REPORT_DIR/NAME.log.
step() {
  local name="$1" start=$SECONDS
  shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$report/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "== $name: exit $rc after $((SECONDS - start)) s"
  [[ $rc -eq 0 ]] || failed=1
  return "$rc"
}

if [[ "$deps" == *.tar.xz ]]; then
  tar -C "$build" -xJf "$deps"
  deps="$build/DEPS"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$report/gpu.txt"

# The CI recipe (setup/build-cuda.sh), on this machine's own torch (no PyPI
# here) unless CODEC_TORCH_PYTHON names another.
export CODEC_TORCH_PYTHON="${CODEC_TORCH_PYTHON:-python3}"
[ -z "$deps" ] || export CODEC_DEPS_PREFIX="$(realpath "$deps")"
step build setup/build-cuda.sh "$build" tests_backends_parity_test tests_backends_batching_test \
  tests_backends_step_ops_test batch_bench codec_server || exit 1

# The tests as CTest runs them (cmake/run_test.cmake): from the source root,
# with an empty TEST_TMPDIR; on the GPU.
gpu_test() {
  local tmp
  tmp="$(mktemp -d)"
  TEST_TMPDIR="$tmp" CODEC_TEST_DEVICE=cuda:0 "$build/tests/backends/$1"
}
bench="$build/bench/batch_bench --device=cuda:0 --passes=1 --workdir=$build/bench_models"
step parity_cuda gpu_test parity_test
step bench_snac $bench --scenarios=snac_24khz:decode:4 --streams=1,16,64,256 --max_batch=256 \
  --seconds=2
step batching_cuda gpu_test batching_test
# What a batched step dispatches on the GPU: one download, no value read
# back by our code, and the operations per step at 1 to 256 streams.
step step_ops_cuda gpu_test step_ops_test
step count_ops $bench --count_ops --scenarios=snac_24khz:decode:4,encodec_24khz:encode:1 \
  --streams=1,16,64,256
step bench_encodec $bench --scenarios=encodec_24khz:encode:1 --streams=1,16,64 --max_batch=64 \
  --seconds=1 --paced=false
step bench_mimi $bench --scenarios=mimi_24khz:encode:1,mimi_24khz:decode:1 --streams=1,16,64 \
  --max_batch=64 --seconds=1 --paced=false
exit "$failed"
