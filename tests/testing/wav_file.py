"""WAV files for the Python tests and scripts: 16-bit PCM or 32-bit float."""

import numpy as np


def read_wav(path):
    """A 16-bit PCM or 32-bit float WAV as float32 [channels, frames] and its rate."""
    with open(path, "rb") as file:
        data = file.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", path
    chunks, pos = {}, 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        chunks[data[pos:pos + 4]] = data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    fmt = chunks[b"fmt "]
    tag, channels = int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little")
    rate, bits = int.from_bytes(fmt[4:8], "little"), int.from_bytes(fmt[14:16], "little")
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the real tag opens the subformat GUID.
        tag = int.from_bytes(fmt[24:26], "little")
    if tag == 3 and bits == 32:
        samples = np.frombuffer(chunks[b"data"], "<f4")
    elif tag == 1 and bits == 16:
        samples = np.frombuffer(chunks[b"data"], "<i2") / 32768.0
    else:
        raise ValueError(f"{path}: unsupported WAV format {tag}/{bits} bits")
    return np.ascontiguousarray(samples.reshape(-1, channels).T, np.float32), rate
