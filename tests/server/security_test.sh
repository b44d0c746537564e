#!/usr/bin/env bash
# TLS, mutual TLS, bearer tokens and the admin listener on the real
# codec_server, with certificates this test makes with openssl, driven by
# codec_client and the Python client.
set -euo pipefail
source tests/testing/start_server.sh
dir="$TEST_TMPDIR/pki"
mkdir -p "$dir"
cd "$dir"
make_ca() {  # make_ca NAME
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
issue() {  # issue NAME CA [SAN]: a certificate for NAME signed by CA.
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "${3:-DNS:$1}" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
make_ca ca
make_ca other_ca
issue server ca "DNS:localhost,IP:127.0.0.1"
issue client ca
issue stranger other_ca
echo "user-token-1" >use.tokens
printf '# admins\nadmin-token-1\n' >admin.tokens
echo "user-token-1" >user.token
echo "admin-token-1" >admin.token
echo "wrong-token" >wrong.token
cd - >/dev/null

start_server --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6 \
  --tls_cert="$dir/server.pem" --tls_key="$dir/server.key" --tls_client_ca="$dir/ca.pem" \
  --auth_token_file="$dir/use.tokens" --admin_token_file="$dir/admin.tokens" \
  --admin_listen=127.0.0.1:0
grep -q "mutual TLS, bearer tokens required" "$log"
admin_port=$(sed -n 's/^codec_server: admin listening on port \([0-9]*\).*/\1/p' "$log")
[ -n "$admin_port" ]

client=client/codec_client
mtls=(--tls_ca="$dir/ca.pem" --tls_cert="$dir/client.pem" --tls_key="$dir/client.key")
# expect CODE ARGS...: codec_client ARGS fails with CODE (or succeeds for OK).
expect() {
  local code="$1"; shift
  if "$client" "$@" --timeout_seconds=20 >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err"; then
    [ "$code" = OK ] || { echo "expected $code, got OK: $*"; exit 1; }
  else
    grep -q "$code" "$TEST_TMPDIR/err" || { echo "expected $code: $*"; cat "$TEST_TMPDIR/err"; exit 1; }
  fi
}
data=(--server=127.0.0.1:$port)
admin=(--server=127.0.0.1:$admin_port)
load=(load --model=second --preset=snac --weights=snac24_tiny)

expect OK list "${data[@]}" "${mtls[@]}" --token_file="$dir/user.token"
grep -q "^tiny	MODEL_STATE_READY" "$TEST_TMPDIR/out"
expect OK encode "${data[@]}" "${mtls[@]}" --token_file="$dir/user.token" --model=tiny \
  --input="$(fixtures_repository)/encodec24_tiny_bw6/input.wav" --output="$TEST_TMPDIR/codes.npz"
expect UNAUTHENTICATED list "${data[@]}" "${mtls[@]}"
expect UNAUTHENTICATED list "${data[@]}" "${mtls[@]}" --token_file="$dir/wrong.token"
# A server certificate from a CA the client does not trust, a client without
# a certificate, one whose certificate the server does not trust, plaintext.
expect UNAVAILABLE list "${data[@]}" --tls_ca="$dir/other_ca.pem" --tls_cert="$dir/client.pem" \
  --tls_key="$dir/client.key" --token_file="$dir/user.token"
expect UNAVAILABLE list "${data[@]}" --tls_ca="$dir/ca.pem" --token_file="$dir/user.token"
expect UNAVAILABLE list "${data[@]}" --tls_ca="$dir/ca.pem" --tls_cert="$dir/stranger.pem" \
  --tls_key="$dir/stranger.key" --token_file="$dir/user.token"
expect UNAVAILABLE list "${data[@]}" --token_file="$dir/user.token"
# The data port never loads or unloads, whatever the token.
expect PERMISSION_DENIED "${load[@]}" "${data[@]}" "${mtls[@]}" --token_file="$dir/admin.token"
expect PERMISSION_DENIED unload --model=tiny "${data[@]}" "${mtls[@]}" --token_file="$dir/admin.token"
# The admin port needs an admin token.
expect UNAUTHENTICATED "${load[@]}" "${admin[@]}" "${mtls[@]}"
expect PERMISSION_DENIED "${load[@]}" "${admin[@]}" "${mtls[@]}" --token_file="$dir/user.token"
expect OK "${load[@]}" "${admin[@]}" "${mtls[@]}" --token_file="$dir/admin.token"
expect OK unload --model=second "${admin[@]}" "${mtls[@]}" --token_file="$dir/admin.token"
grep -q 'rpc=Load model="second".* status=7 ' "$log"  # Refusals are logged.

# The Python client, and health without a token (probes carry none).
PYTHONPATH="client/python:proto" /usr/bin/python3 - "$port" "$dir" <<'PY'
import sys
import grpc
import numpy as np
from codec_client import CodecClient
port, pki = sys.argv[1], sys.argv[2]
read = lambda name: open(f"{pki}/{name}", "rb").read()
tls = dict(root_certificates=read("ca.pem"), private_key=read("client.key"),
           certificate_chain=read("client.pem"))
client = CodecClient(f"127.0.0.1:{port}", timeout=20, token="user-token-1", **tls)
assert "tiny" in [m.model_id for m in client.list()]
codes = client.encode("tiny", np.zeros((1, 24000), np.float32), 24000, bandwidth_kbps=6)
assert codes.levels[0].shape[0] == 8, codes.levels[0].shape
try:
    CodecClient(f"127.0.0.1:{port}", timeout=20, token="nope", **tls).list()
    raise AssertionError("a wrong token was accepted")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error
channel = grpc.secure_channel(f"127.0.0.1:{port}", grpc.ssl_channel_credentials(**tls))
check = channel.unary_unary("/grpc.health.v1.Health/Check",
                            request_serializer=lambda b: b, response_deserializer=lambda b: b)
assert check(b"", timeout=10) == b"\x08\x01", "health is not SERVING without a token"
PY

# Without --tls_cert the server says it is plaintext, for loopback only.
start_server --model_repository="$(fixtures_repository)"
grep -q "WARNING: plaintext listeners" "$log"

# A flag naming a file that cannot be read, or a value out of range, stops
# the server before any model loads, naming the flag.
: >"$dir/empty.tokens"
refused() {  # refused FLAG ARGS...: codec_server ARGS exits at once naming FLAG, loading nothing.
  local flag="$1" out="$TEST_TMPDIR/refused.log"
  shift
  if timeout 60 server/codec_server --listen=127.0.0.1:0 \
    --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6 \
    "$@" 2>"$out"; then
    echo "started with $*"
    exit 1
  fi
  grep -q -- "$flag" "$out" || { echo "$flag not named for $*:"; cat "$out"; exit 1; }
  if grep -q "startup Load" "$out"; then
    echo "a model loaded before $flag was refused"
    exit 1
  fi
}
refused --tls_key --tls_cert="$dir/server.pem" --tls_key="$dir/missing.key"
refused --tls_cert --tls_cert="$dir/missing.pem" --tls_key="$dir/server.key"
refused --tls_client_ca --tls_cert="$dir/server.pem" --tls_key="$dir/server.key" \
  --tls_client_ca="$dir/missing.pem"
refused --auth_token_file --auth_token_file="$dir/missing.tokens"
refused --admin_token_file --admin_token_file="$dir/empty.tokens"
refused --model_repository --model_repository="$dir/missing_folder"
refused --max_message_mb --max_message_mb=4096
refused --models --models=no_preset
refused --threads --threads=0
echo "security test passed"
