"""Sends each hostile input to a running codec_server and checks its status,
that it answers at once, and that the server then still encodes correctly."""
import sys
import time

import grpc
import numpy as np

from codec.v1 import codec_pb2 as pb, codec_pb2_grpc as rpc

channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
codec = rpc.CodecServiceStub(channel)
models = rpc.ModelServiceStub(channel)
Code = grpc.StatusCode
audio = (np.random.default_rng(0).standard_normal(12000) * 0.1).astype(np.float32)


def encode_tiny():
    config = pb.EncodeConfig(model_id="tiny", sample_rate=24000, channels=1,
                             format=pb.SAMPLE_FORMAT_F32LE, bandwidth_kbps=6)
    requests = [pb.EncodeRequest(config=config), pb.EncodeRequest(pcm=audio.tobytes())]
    return [r.tokens.levels[0].values[:] for r in codec.Encode(iter(requests), timeout=30)
            if r.HasField("tokens")]


baseline = encode_tiny()
assert baseline and sum(len(v) for v in baseline) > 0


def decode_config(model="tiny", num_samples=0):
    return pb.DecodeRequest(config=pb.DecodeConfig(model_id=model, format=pb.SAMPLE_FORMAT_F32LE,
                                                   num_samples=num_samples))


def stereo_codes(frames):
    return pb.DecodeRequest(tokens=pb.TokenChunk(
        levels=[pb.TokenLevel(num_codebooks=8, frames=frames, values=[1] * (8 * frames))],
        scales=[1.0]))


def stream(method, requests):
    return lambda: list(method(iter(requests), timeout=20))


def load(weights, preset="encodec"):
    return lambda: models.Load(pb.LoadRequest(model_id="hostile", preset=preset, weights=weights),
                               timeout=20)


cases = [
    ("Decode: a message with no payload after the config", Code.INVALID_ARGUMENT,
     stream(codec.Decode, [decode_config(), pb.DecodeRequest()])),
    ("Decode: a TokenChunk with no levels", Code.INVALID_ARGUMENT,
     stream(codec.Decode, [decode_config(), pb.DecodeRequest(tokens=pb.TokenChunk())])),
    ("Decode: codes beyond the codebook", Code.INVALID_ARGUMENT,
     stream(codec.Decode, [decode_config(), pb.DecodeRequest(tokens=pb.TokenChunk(levels=[
         pb.TokenLevel(num_codebooks=8, frames=1, values=[1 << 30] * 8)]))])),
    ("Decode: frames = 2^63 with 8 values", Code.INVALID_ARGUMENT,
     stream(codec.Decode, [decode_config(), pb.DecodeRequest(tokens=pb.TokenChunk(levels=[
         pb.TokenLevel(num_codebooks=8, frames=1 << 63, values=[1] * 8)]))])),
    ("Decode: EnCodec 48 kHz, num_samples = 2^62", Code.INVALID_ARGUMENT,
     stream(codec.Decode, [decode_config("stereo", 1 << 62), stereo_codes(10)])),
    ("Decode: num_samples = 2^64 - 1", Code.INVALID_ARGUMENT,
     stream(codec.Decode, [decode_config("stereo", (1 << 64) - 1), stereo_codes(10)])),
    ("Encode: no config first", Code.INVALID_ARGUMENT,
     stream(codec.Encode, [pb.EncodeRequest(pcm=audio.tobytes())])),
    ("Encode: PCM of 7 bytes (not whole float32 samples)", Code.INVALID_ARGUMENT,
     stream(codec.Encode, [pb.EncodeRequest(config=pb.EncodeConfig(
         model_id="tiny", sample_rate=24000, channels=1, format=pb.SAMPLE_FORMAT_F32LE)),
         pb.EncodeRequest(pcm=b"\0" * 7)])),
    ("Encode: n_q = 2^32 - 1", Code.INVALID_ARGUMENT,
     stream(codec.Encode, [pb.EncodeRequest(config=pb.EncodeConfig(
         model_id="tiny", sample_rate=24000, channels=1, format=pb.SAMPLE_FORMAT_F32LE,
         n_q=(1 << 32) - 1)), pb.EncodeRequest(pcm=audio.tobytes())])),
    ("Encode: bandwidth = NaN", Code.INVALID_ARGUMENT,
     stream(codec.Encode, [pb.EncodeRequest(config=pb.EncodeConfig(
         model_id="tiny", sample_rate=24000, channels=1, format=pb.SAMPLE_FORMAT_F32LE,
         bandwidth_kbps=float("nan"))), pb.EncodeRequest(pcm=audio.tobytes())])),
    ("Load: a pickle nesting 200,000 lists deep", Code.RESOURCE_EXHAUSTED, load("deep.th")),
    ("Load: a zip entry deflated 256 MiB of zeros", Code.RESOURCE_EXHAUSTED, load("bomb.th")),
    ("Load: weights that are a FIFO", Code.FAILED_PRECONDITION, load("fifo.th")),
    ("Load: a symlinked folder leading outside", Code.PERMISSION_DENIED, load("escape")),
    ("Load: an absolute path", Code.INVALID_ARGUMENT, load("/etc/passwd")),
    ("Load: a path climbing out", Code.INVALID_ARGUMENT, load("../outside/model")),
    ("Load: an unknown preset", Code.NOT_FOUND, load("encodec24_tiny_bw6", "nope")),
    ("Load: a DAC config.json with 2e9 encoder channels", Code.INVALID_ARGUMENT,
     load("dac_absurd", "dac")),
    ("Load: a DAC config.json within bounds, larger than memory", Code.RESOURCE_EXHAUSTED,
     load("dac_huge", "dac")),
]

print("| input | status | answered in | message |")
print("|---|---|---|---|")
failures = []
for what, expected, call in cases:
    start = time.monotonic()
    try:
        call()
        got, message = Code.OK, ""
    except grpc.RpcError as error:
        got, message = error.code(), error.details()
    seconds = time.monotonic() - start
    shown = message.replace("|", "\\|")
    print(f"| {what} | {got.name} | {seconds * 1000:.0f} ms | {shown} |")
    if got != expected:
        failures.append(f"{what}: got {got.name} ({message}), expected {expected.name}")
    if seconds > 5:
        failures.append(f"{what}: took {seconds:.1f} s")
    if "/" in message and ("tmp" in message or "root" in message or "work" in message):
        failures.append(f"{what}: the message names a server path: {message}")
    # The server still serves, and the same input still gives the same codes.
    if encode_tiny() != baseline:
        failures.append(f"{what}: the server's codes changed afterwards")

health = channel.unary_unary("/grpc.health.v1.Health/Check",
                             request_serializer=lambda b: b, response_deserializer=lambda b: b)
assert health(b"", timeout=10) == b"\x08\x01", "not SERVING"
if failures:
    sys.exit("\n".join(failures))
