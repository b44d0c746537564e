#!/usr/bin/env bash
# The first run on a Debian 12 machine: installs the Debian packages the build
# needs (setup/debian-packages.txt; root or sudo), builds the server and the
# client, starts the server on the shipped example model (a tiny EnCodec,
# model id "tiny") on 127.0.0.1:${PORT:-50051}, sends a real recording
# through it (encode, then decode, with the round trip's SNR) and keeps
# serving until Ctrl-C. --exit_after_roundtrip stops the server after the
# round trip instead.
set -euo pipefail
cd "$(dirname "$0")"
say() { echo "quickstart: $*"; }
exit_after_roundtrip=""
[ "${1:-}" = "--exit_after_roundtrip" ] && exit_after_roundtrip=1

setup/install-packages.sh
say "building //server:codec_server and //client:codec_client with Bazel (offline; the" \
  "first build takes a while)"
bazel build //server:codec_server //client:codec_client

port="${PORT:-50051}"
work="$(mktemp -d -t codec-quickstart.XXXXXX)"
touch "$work/server.log"
bazel-bin/server/codec_server --listen="127.0.0.1:$port" --model_repository="$PWD/tests/fixtures" \
  --models=tiny=encodec:encodec24_tiny_bw6 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "listening on port" "$work/server.log" && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done
grep -q "listening on port" "$work/server.log" || { cat "$work/server.log"; exit 1; }
say "codec_server serves the example model 'tiny' on 127.0.0.1:$port (log: $work/server.log)"

say "round trip of tests/fixtures/audio/jfk.wav through it:"
bazel-bin/client/codec_client roundtrip --server="127.0.0.1:$port" --model=tiny \
  --input="$PWD/tests/fixtures/audio/jfk.wav" --output="$work/jfk_roundtrip.wav" \
  --codes="$work/jfk.npz"
say "codes in $work/jfk.npz, decoded audio in $work/jfk_roundtrip.wav (the example model" \
  "has seeded random weights: its SNR only shows that the round trip ran)"

if [ -n "$exit_after_roundtrip" ]; then
  say "done; stopping the server"
  exit 0
fi
say "serving until Ctrl-C; try: bazel-bin/client/codec_client list --server=127.0.0.1:$port"
wait "$server"
