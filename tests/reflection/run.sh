#!/usr/bin/env bash
# grpcurl's way in, with a real reflection client: starts the built
# codec_server on a shipped model and drives it by server reflection alone
# (list, describe every service, Health/Check, ModelService/GetModel and
# ListDevices), with grpc-js-reflection-client from the npm registry (Debian
# has no grpcurl).
# Run from the repository root after `bazel build //server:codec_server`;
# .ci/run runs it after the Bazel tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/reflection --no-audit --no-fund --ignore-scripts --loglevel=error
CODEC_SERVER="$PWD/bazel-bin/server/codec_server"
source tests/testing/start_server.sh
start_server --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6
node tests/reflection/reflection_test.js "127.0.0.1:$port"
echo "reflection test passed"
