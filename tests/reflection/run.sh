#!/usr/bin/env bash
# grpcurl's way in, with a real reflection client: starts the built
# codec_server on a shipped model and drives it by server reflection alone
# (list, describe every service, Health/Check, ModelService/GetModel and
# ListDevices) with reflection_test.py, on gRPC's Python reflection client
# from PyPI (setup/venvs/reflection.txt; Debian has no grpcurl).
# Run from the repository root after `bazel build //server:codec_server`,
# or with another build's server as its argument (.ci/run runs it on the
# Bazel build's and on the CUDA build's).
#   tests/reflection/run.sh [CODEC_SERVER]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="$(setup/python-venv.sh reflection)"
CODEC_SERVER="$(realpath "${1:-bazel-bin/server/codec_server}")"
source tests/testing/start_server.sh
start_server --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6
"$venv/bin/python" tests/reflection/reflection_test.py "127.0.0.1:$port"
echo "reflection test passed"
