#!/usr/bin/env bash
# Builds the CPU image (the top-level Dockerfile) with podman, runs it on the
# shipped tiny EnCodec model, and drives it from the host through published
# loopback ports with the host's codec_client: health, encode and decode of a
# real recording, which must equal what the image's own codec_tool computes
# offline, and a Prometheus scrape. Then a SIGTERM while a paced stream runs:
# the stream must finish whole and the container exit 0 within the grace
# period. Removes what it built (containers, the image, and the base image if
# it made it).
#
#   deploy/test_image.sh          (needs root, podman, buildah, runc, debootstrap;
#                                  builds //client:codec_client with Bazel)
#   deploy/test_image.sh --cuda   the GPU image (deploy/Dockerfile.cuda), the
#                                  same checks, on the CPU (its --devices=all
#                                  finds no GPU here)
#
# podman here: runc and cgroupfs (crun refuses hybrid cgroups), ulimits within
# the machine's, set in a private containers.conf. No registry: the base
# image is made with debootstrap from the mirror apt uses.
set -euo pipefail
cd "$(dirname "$0")/.."
dockerfile=Dockerfile
case "${1:-}" in
  "") ;;
  --cuda) dockerfile=deploy/Dockerfile.cuda ;;
  *) echo "usage: deploy/test_image.sh [--cuda]"; exit 2 ;;
esac
start=$(date +%s)
work="$(mktemp -d)"
tag="localhost/codec-server-test:$$"
name="codec-server-test-$$"
made_base=""
cleanup() {
  local status=$?
  if [ "$status" != 0 ] && podman container exists "$name" 2>/dev/null; then
    echo "test_image failed (exit $status); the server's log:"
    podman logs "$name" 2>&1 | tail -30
  fi
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman rmi -f "$tag" >/dev/null 2>&1 || true
  [ -z "$made_base" ] || podman rmi -f debian:bookworm >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

source deploy/podman_env.sh
podman_config "$work"
bookworm_image "$work"

bazel build //client:codec_client
client="$PWD/bazel-bin/client/codec_client"

build_start=$(date +%s)
# A host whose pip trusts its own CA (a TLS-intercepting proxy) lends it to
# the GPU image's pip.
cert_args=()
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
  cert_args=(--volume "$PIP_CERT:/run/pip-cert.crt:ro" --build-arg "PIP_CERT=/run/pip-cert.crt")
fi
podman build --pull=never --network=host --layers=false --format=docker "${cert_args[@]}" \
  -f "$dockerfile" -t "$tag" . \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
build_seconds=$(( $(date +%s) - build_start ))
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "$dockerfile: image built in ${build_seconds} s: $(( size / 1000000 )) MB"

# The shipped fixtures are the model volume (read-only); the image's user
# writes its offline results to a scratch volume.
models="$(realpath tests/fixtures)"
mkdir -m 0777 "$work/out"
podman run -d --name "$name" -p 127.0.0.1::50051 -p 127.0.0.1::9090 \
  -v "$models:/models:ro" "$tag" --models=tiny=encodec:encodec24_tiny_bw6 >/dev/null
port=$(podman port "$name" 50051/tcp | sed 's/.*://')
metrics_port=$(podman port "$name" 9090/tcp | sed 's/.*://')
for _ in $(seq 1 100); do
  [ "$("$client" --server=127.0.0.1:$port health --timeout_seconds=2 2>/dev/null)" = SERVING ] && break
  sleep 0.3
done
"$client" --server=127.0.0.1:$port health --service=codec.v1.CodecService
[ "$(podman exec "$name" id -u)" = 10001 ]

input=tests/fixtures/audio/jfk.wav
"$client" --server=127.0.0.1:$port encode --model=tiny --bandwidth=6 --input="$input" \
  --output="$work/out/served.npz"
"$client" --server=127.0.0.1:$port decode --model=tiny --input="$work/out/served.npz" \
  --output="$work/out/served.wav"
offline() {
  podman run --rm --entrypoint codec_tool -v "$models:/models:ro" -v "$work/out:/out" "$tag" \
    "$@" --model=encodec --weights=/models/encodec24_tiny_bw6
}
offline encode --bandwidth=6 --input=/models/audio/jfk.wav --output=/out/offline.npz
offline decode --input=/out/served.npz --output=/out/offline.wav
cat >"$work/same.py" <<'PY'
"""same.py npz|wav A B: the codes in two .npz files are identical, or the
audio of two WAV files within 1e-4."""
import sys
import numpy as np
from wav_file import read_wav
kind, a_path, b_path = sys.argv[1:]
if kind == "npz":
    a, b = np.load(a_path), np.load(b_path)
    assert sorted(a.files) == sorted(b.files), (a.files, b.files)
    for key in a.files:
        assert np.array_equal(a[key], b[key]), f"{key} differs"
    print(f"codes identical: {', '.join(f'{k} {a[k].shape}' for k in sorted(a.files))}")
else:
    (a, _), (b, _) = read_wav(a_path), read_wav(b_path)
    assert a.shape == b.shape and a.size > 0, (a.shape, b.shape)
    error = np.abs(a - b).max()
    assert error <= 1e-4, error
    print(f"audio equal: {a.size} samples, max abs error {error:.2e}")
PY
same() { PYTHONPATH=tests/testing /usr/bin/python3 "$work/same.py" "$@"; }
same npz "$work/out/served.npz" "$work/out/offline.npz"
same wav "$work/out/served.wav" "$work/out/offline.wav"

/usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
  "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt"
grep -q '^codec_requests_total{code="OK",model="tiny",rpc="Encode"} 1$' "$work/metrics.txt" || {
  grep codec_requests_total "$work/metrics.txt"; exit 1; }

# SIGTERM mid-stream: a decode paced at real time (11 s of audio) is running;
# the server drains it, then exits 0.
"$client" --server=127.0.0.1:$port decode --realtime --chunk_frames=4 --model=tiny \
  --input="$work/out/served.npz" --output="$work/out/drained.wav" >"$work/drain.log" 2>&1 &
stream=$!
sleep 2
stop_start=$(date +%s)
podman stop -t 60 "$name" >/dev/null
stop_seconds=$(( $(date +%s) - stop_start ))
wait "$stream" || { cat "$work/drain.log"; podman logs "$name" | tail; exit 1; }
[ "$(podman inspect --format '{{.State.ExitCode}}' "$name")" = 0 ]
podman logs "$name" 2>&1 | grep -q "codec_server: signal 15, draining"
podman logs "$name" 2>&1 | grep -q "codec_server: stopped"
same wav "$work/out/drained.wav" "$work/out/served.wav"
echo "SIGTERM with a stream open: the stream finished, the container exited 0 after ${stop_seconds} s"
echo "test_image ($dockerfile) passed in $(( $(date +%s) - start )) s (image build ${build_seconds} s, $(( size / 1000000 )) MB)"
