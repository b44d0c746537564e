"""Writes the small seed inputs of tests/fuzz/seeds from the fixtures.

Run from the repository root: /usr/bin/python3 tests/fuzz/make_seeds.py (Debian's numpy). The seeds
are committed; rerun this after changing a fixture. Whole fixture files
(checkpoints, .npz, .wav) are seeds too, named in BUILD directly.
"""
import json
import os
import struct
import zipfile

import numpy as np

ROOT = "tests/fuzz/seeds"


def write(target, name, data):
    os.makedirs(f"{ROOT}/{target}", exist_ok=True)
    with open(f"{ROOT}/{target}/{name}", "wb") as f:
        f.write(data)


# The pickles inside the fixture checkpoints.
for path in ["tests/fixtures/encodec24_tiny_bw6/weights.th", "tests/fixtures/dac16_tiny/weights.pth",
             "tests/fixtures/snac24_tiny/pytorch_model.bin"]:
    with zipfile.ZipFile(path) as z:
        pickle = next(n for n in z.namelist() if n.endswith("data.pkl"))
        write("pickle", path.split("/")[2] + ".pkl", z.read(pickle))

# A safetensors file of two tensors, as the format's specification lays it out.
tensors = {"a": np.arange(6, dtype="<f4").reshape(2, 3), "b": np.arange(4, dtype="<i8")}
header, data = {}, b""
for name, array in tensors.items():
    header[name] = {"dtype": {"float32": "F32", "int64": "I64"}[str(array.dtype)],
                    "shape": list(array.shape), "data_offsets": [len(data), len(data) + array.nbytes]}
    data += array.tobytes()
text = json.dumps(header).encode()
write("safetensors", "two_tensors.safetensors", struct.pack("<Q", len(text)) + text + data)

# .npy arrays from a fixture's expected.npz.
with zipfile.ZipFile("tests/fixtures/encodec24_tiny_bw6/expected.npz") as z:
    for name in [n for n in z.namelist() if n.startswith("codes")]:
        write("npy", name, z.read(name))


# TokenChunk messages (codec.v1), encoded by hand from the wire format.
def varint(value):
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    return key + (varint(len(payload)) + payload if wire_type == 2 else payload)


def level(codebooks, frames, values):
    packed = b"".join(varint(v) for v in values)
    return field(1, 0, varint(codebooks)) + field(2, 0, varint(frames)) + field(3, 2, packed)


def chunk(levels, start_frame=0, scales=()):
    out = b"".join(field(1, 2, level(*lv)) for lv in levels)
    out += field(2, 0, varint(start_frame))
    if scales:
        out += field(3, 2, b"".join(struct.pack("<f", s) for s in scales))
    return out


write("token_chunk", "single_level", chunk([(32, 4, [i % 1024 for i in range(128)])]))
write("token_chunk", "three_levels",
      chunk([(1, 1, [5]), (1, 2, [6, 7]), (1, 4, [8, 9, 10, 11])], start_frame=4))
write("token_chunk", "scaled", chunk([(8, 2, list(range(16)))], scales=[0.5]))

# PCM payloads: the first byte picks format (low 2 bits) and channels.
write("pcm", "f32_mono", bytes([1]) + np.linspace(-1, 1, 64, dtype="<f4").tobytes())
write("pcm", "s16_stereo", bytes([2 | 1 << 2]) + np.arange(-64, 64, dtype="<i2").tobytes())
write("pcm", "ragged", bytes([1]) + b"\x00" * 7)
