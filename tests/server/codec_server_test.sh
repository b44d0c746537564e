#!/usr/bin/env bash
# The real codec_server binary on loopback: it loads a model at start,
# answers the gRPC health check and server reflection (what grpcurl uses),
# and drains and exits cleanly on SIGTERM.
set -euo pipefail

out="${TEST_TMPDIR:-$(mktemp -d)}"
source tests/testing/start_server.sh
start_server --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6
grep -q "startup Load tiny=encodec:encodec24_tiny_bw6: OK" "$log"

/usr/bin/python3 - "$port" <<'PY'
import sys, grpc
channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
grpc.channel_ready_future(channel).result(timeout=10)
identity = lambda b: b
# grpc.health.v1.Health/Check with an empty request: status 1 = SERVING.
check = channel.unary_unary("/grpc.health.v1.Health/Check",
                            request_serializer=identity, response_deserializer=identity)
assert check(b"", timeout=10) == b"\x08\x01", "health check is not SERVING"
for name in (b"codec.v1.CodecService", b"codec.v1.ModelService"):
    request = bytes([0x0a, len(name)]) + name  # HealthCheckRequest.service
    assert check(request, timeout=10) == b"\x08\x01", f"{name} is not SERVING"
# Server reflection: list_services (field 7, empty string).
reflect = channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                request_serializer=identity, response_deserializer=identity)
reply = b"".join(reflect(iter([b"\x3a\x00"]), timeout=10))
for service in (b"codec.v1.CodecService", b"codec.v1.ModelService", b"grpc.health.v1.Health"):
    assert service in reply, f"reflection does not list {service}"
# ModelService/GetModel for the startup model: model_id field 1.
get = channel.unary_unary("/codec.v1.ModelService/GetModel",
                          request_serializer=identity, response_deserializer=identity)
info = get(b"\x0a\x04tiny", timeout=10)
assert b"tiny" in info and b"encodec" in info, info
try:
    get(b"\x0a\x04nope", timeout=10)
    raise AssertionError("unknown model did not fail")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.NOT_FOUND, error
def text(field, value):  # A length-delimited string field.
    data = value.encode()
    return bytes([field << 3 | 2, len(data)]) + data
call = lambda method: channel.unary_unary(f"/codec.v1.ModelService/{method}",
                                          request_serializer=identity,
                                          response_deserializer=identity)
def status_of(method, request):
    try:
        call(method)(request, timeout=30)
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()
load = text(1, "second") + text(2, "snac") + text(3, "snac24_tiny")
assert status_of("Load", load) == grpc.StatusCode.OK
assert b"second" in call("ListModels")(b"", timeout=10)
assert status_of("Load", text(1, "x") + text(2, "snac") + text(3, "../x")) == \
    grpc.StatusCode.INVALID_ARGUMENT
# Debian's libtorch has no CUDA: a GPU is a precondition this server lacks.
assert status_of("Load", load + text(4, "cuda:0")) == grpc.StatusCode.FAILED_PRECONDITION
assert status_of("Load", load + text(4, "cpu:3")) == grpc.StatusCode.NOT_FOUND
assert status_of("Unload", text(1, "second")) == grpc.StatusCode.OK
assert status_of("GetModel", text(1, "second")) == grpc.StatusCode.OK  # Listed as UNLOADED.
assert status_of("Unload", text(1, "second")) == grpc.StatusCode.OK  # Nothing left to do.
assert status_of("Unload", text(1, "never-loaded")) == grpc.StatusCode.NOT_FOUND
print("health, reflection and ModelService answer")
PY

# codec_client against the same server, on a real recording.
client=client/codec_client
"$client" --server=127.0.0.1:$port list | grep -q "^tiny	MODEL_STATE_READY	encodec	24000 Hz"
"$client" --server=127.0.0.1:$port info --model=tiny | grep -q '"sampleRate": 24000'
[ "$("$client" --server=127.0.0.1:$port health)" = SERVING ]
[ "$("$client" --server=127.0.0.1:$port health --service=codec.v1.CodecService)" = SERVING ]
if "$client" --server=127.0.0.1:$port health --service=no.such.Service 2>"$out/health.err"; then
  echo "health of an unknown service succeeded"
  exit 1
fi
grep -q "NOT_FOUND" "$out/health.err"
"$client" --server=127.0.0.1:$port devices >"$out/devices"
grep -q '"name": "cpu"' "$out/devices" && grep -q '"tiny"' "$out/devices" || { cat "$out/devices"; exit 1; }
"$client" --server=127.0.0.1:$port roundtrip --model=tiny --input=tests/fixtures/audio/jfk.wav \
  --output="$out/jfk_rt.wav" --codes="$out/jfk.npz" >"$out/report" 2>"$out/client.err"
grep -q "resampled 16000 Hz -> 24000 Hz" "$out/client.err"
grep -Eq "^duration 11 s, [0-9]+ tokens, SNR -?[0-9.]+ dB$" "$out/report" || { cat "$out/report"; exit 1; }
cat "$out/report"
"$client" --server=127.0.0.1:$port encode --model=tiny --n_q=4 \
  --input=tests/fixtures/encodec24_tiny_bw6/input.wav --output="$out/c.npz"
"$client" --server=127.0.0.1:$port decode --model=tiny --input="$out/c.npz" --output="$out/d.wav"
/usr/bin/python3 - "$out" <<'PY'
import sys, wave, numpy as np
codes = np.load(sys.argv[1] + "/c.npz")
assert codes["codes"].shape == (4, 195) and int(codes["num_samples"]) == 62400, codes["codes"].shape
rt = np.load(sys.argv[1] + "/jfk.npz")
assert rt["codes"].shape[0] == 16 and int(rt["sample_rate"]) == 24000
PY
"$client" --server=127.0.0.1:$port load --model=snac --preset=snac --weights=snac24_tiny \
  | grep -q MODEL_STATE_READY
"$client" --server=127.0.0.1:$port unload --model=snac
"$client" --server=127.0.0.1:$port info --model=snac | grep -q MODEL_STATE_UNLOADED
if "$client" --server=127.0.0.1:$port info --model=nope 2>"$out/err"; then exit 1; fi
grep -q "NOT_FOUND" "$out/err"

kill -TERM "$pid"
wait "$pid"
grep -q "codec_server: stopped" "$log"
trap - EXIT
echo "codec_server: all checks passed"
