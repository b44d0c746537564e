#!/usr/bin/env bash
# The soak (bench/soak.py): builds the server and the Python client (the
# wheel, into a virtual environment as python_client_test does), then runs
# the real server under mixed load for --minutes (default 10) and prints its
# report; --report=FILE also writes it (docs/CONCURRENCY.md holds the last one).
# Not in CI: it runs for minutes by design.
#
#   bash bench/soak.sh --minutes=10 --report=/tmp/soak.md
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //server:codec_server
work="$(mktemp -d /tmp/codec_soak.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bash client/python/make_venv.sh "$work"
fixtures="$(realpath tests/fixtures)"
"$work/venv/bin/python" bench/soak.py --server="$PWD/bazel-bin/server/codec_server" \
  --fixtures="$fixtures" --workdir="$work/run" "$@"
