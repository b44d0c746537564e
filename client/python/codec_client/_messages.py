"""What the sync and asyncio clients share: codec.v1 requests from numpy
arrays and back, whole arrays cut into stream chunks, and the channel."""

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import grpc
import numpy as np

from codec.v1 import codec_pb2

Levels = List[np.ndarray]
# A decode stream's chunk: its levels, or (levels, scales) for EnCodec 48 kHz.
TokenChunk = Union[Sequence[np.ndarray], Tuple[Sequence[np.ndarray], Sequence[float]]]
# An encode stream's output: (levels, start_frame, scales).
CodesChunk = Tuple[Levels, int, List[float]]

NOISE = {
    "random": codec_pb2.NOISE_MODE_RANDOM,
    "off": codec_pb2.NOISE_MODE_OFF,
    "seeded": codec_pb2.NOISE_MODE_SEEDED,
}


class EncodeResult:
    """Tokens of one stream: `levels` (one uint32 [num_codebooks, frames] array
    per level, coarsest first), `num_samples` and EnCodec 48 kHz's `scales`."""

    def __init__(self) -> None:
        self.levels: Levels = []
        self.scales: List[float] = []
        self.num_samples = 0

    def append(self, levels: Levels, scales: Sequence[float]) -> None:
        if not self.levels:
            self.levels = [np.zeros((level.shape[0], 0), np.uint32) for level in levels]
        for i, level in enumerate(levels):
            self.levels[i] = np.concatenate([self.levels[i], level], axis=1)
        self.scales.extend(scales)


def call_options(timeout: Optional[float], token: Optional[str]) -> Dict[str, Any]:
    options: Dict[str, Any] = {"timeout": timeout}
    if token:
        options["metadata"] = (("authorization", f"Bearer {token}"),)
    return options


def open_channel(grpc_module: Any, target: str, tls: bool, root_certificates: Optional[bytes],
                 private_key: Optional[bytes], certificate_chain: Optional[bytes]) -> Any:
    """A channel from `grpc_module` (grpc, or grpc.aio): TLS when `tls` or any
    PEM is given, else plaintext."""
    if not (tls or root_certificates or certificate_chain):
        return grpc_module.insecure_channel(target)
    credentials = grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)
    return grpc_module.secure_channel(target, credentials)


def encode_config(model: str, sample_rate: int, channels: int, bandwidth_kbps: Optional[float],
                  n_q: Optional[int]) -> codec_pb2.EncodeRequest:
    config = codec_pb2.EncodeConfig(model_id=model, sample_rate=sample_rate, channels=channels,
                                    format=codec_pb2.SAMPLE_FORMAT_F32LE)
    if bandwidth_kbps is not None:
        config.bandwidth_kbps = bandwidth_kbps
    if n_q is not None:
        config.n_q = n_q
    return codec_pb2.EncodeRequest(config=config)


def pcm_request(chunk: np.ndarray, channels: int) -> codec_pb2.EncodeRequest:
    """float32 [channels, frames] (or [frames]) as interleaved little-endian PCM."""
    chunk = np.asarray(chunk, np.float32).reshape(channels, -1)
    return codec_pb2.EncodeRequest(pcm=np.ascontiguousarray(chunk.T).astype("<f4").tobytes())


def decode_config(model: str, num_samples: int, noise: str, seed: int,
                  lookahead_frames: Optional[int] = None) -> codec_pb2.DecodeRequest:
    if noise not in NOISE:
        raise ValueError(f"noise must be one of {sorted(NOISE)}, not {noise!r}")
    config = codec_pb2.DecodeConfig(model_id=model, format=codec_pb2.SAMPLE_FORMAT_F32LE,
                                    noise=NOISE[noise], seed=seed, num_samples=num_samples)
    if lookahead_frames is not None:
        config.lookahead_frames = lookahead_frames
    return codec_pb2.DecodeRequest(config=config)


def tokens_request(chunk: TokenChunk) -> codec_pb2.DecodeRequest:
    levels, scales = chunk if isinstance(chunk, tuple) else (chunk, ())
    message = codec_pb2.TokenChunk(scales=list(scales))
    for level in levels:
        level = np.asarray(level, np.uint32).reshape(-1, np.shape(level)[-1])
        message.levels.add(num_codebooks=level.shape[0], frames=level.shape[1],
                           values=level.reshape(-1).tolist())
    return codec_pb2.DecodeRequest(tokens=message)


def codes_of(response: codec_pb2.EncodeResponse,
             summary: Optional[Dict[str, int]]) -> Optional[CodesChunk]:
    """A response's codes, or None for the closing summary (copied to `summary`)."""
    if response.HasField("summary"):
        if summary is not None:
            summary["frames"] = response.summary.frames
            summary["num_samples"] = response.summary.num_samples
        return None
    tokens = response.tokens
    levels = [np.asarray(level.values, np.uint32).reshape(level.num_codebooks, level.frames)
              for level in tokens.levels]
    return levels, tokens.start_frame, list(tokens.scales)


def audio_of(response: codec_pb2.DecodeResponse) -> np.ndarray:
    samples = np.frombuffer(response.pcm, "<f4")
    return samples.reshape(-1, response.channels).T.copy()


def as_audio(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, np.float32)
    return audio[None, :] if audio.ndim == 1 else audio


def audio_chunks(audio: np.ndarray, chunk_frames: int) -> Iterator[np.ndarray]:
    for first in range(0, audio.shape[1], chunk_frames):
        yield audio[:, first:first + chunk_frames]


def token_chunks(levels: Sequence[np.ndarray], scales: Sequence[float],
                 chunk_frames: int) -> Iterator[TokenChunk]:
    """Levels (coarsest first) in chunks of about `chunk_frames` finest frames,
    each a whole number of the coarsest level's frames."""
    levels = [np.asarray(level, np.uint32).reshape(-1, np.shape(level)[-1]) for level in levels]
    finest = levels[-1].shape[1]
    coarsest_stride = finest // max(1, levels[0].shape[1])
    step = max(1, chunk_frames // max(1, coarsest_stride)) * max(1, coarsest_stride)
    for first in range(0, finest, step):
        parts = []
        for level in levels:
            stride = finest // level.shape[1]
            parts.append(level[:, first // stride:(first + step) // stride])
        yield parts, (list(scales) if first == 0 else [])


def joined(audio: List[np.ndarray]) -> np.ndarray:
    return np.concatenate(audio, axis=1) if audio else np.zeros((1, 0), np.float32)
