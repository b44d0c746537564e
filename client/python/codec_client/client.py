"""The synchronous client: each call blocks its thread (see aio.py for an
event loop's)."""

from typing import Dict, Iterable, Iterator, List, Optional, Sequence

import grpc
import numpy as np

from codec.v1 import codec_pb2, codec_pb2_grpc
from codec_client import _messages as messages
from codec_client._errors import CodecError


class CodecClient:
    """A codec_server's CodecService and ModelService, over one channel.

    Plaintext by default; TLS when `tls` or any PEM (bytes) is given:
    `root_certificates` the server's certificate must chain to (the system's
    roots when None), `private_key` and `certificate_chain` for servers that
    require a client certificate. `token` goes with every call as
    `authorization: Bearer <token>`; `timeout` (seconds) is every call's
    deadline. A failed call raises CodecError (code and message).
    """

    def __init__(self, target: str, timeout: Optional[float] = None,
                 channel: Optional[grpc.Channel] = None,
                 root_certificates: Optional[bytes] = None, private_key: Optional[bytes] = None,
                 certificate_chain: Optional[bytes] = None, tls: bool = False,
                 token: Optional[str] = None) -> None:
        if channel is None:
            channel = messages.open_channel(grpc, target, tls, root_certificates, private_key,
                                            certificate_chain)
        self._channel = channel
        self._codec = codec_pb2_grpc.CodecServiceStub(channel)
        self._models = codec_pb2_grpc.ModelServiceStub(channel)
        self._call = messages.call_options(timeout, token)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "CodecClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def encode_stream(self, model: str, chunks: Iterable[np.ndarray], sample_rate: int,
                      channels: int = 1, bandwidth_kbps: Optional[float] = None,
                      n_q: Optional[int] = None,
                      summary: Optional[Dict[str, int]] = None) -> Iterator[messages.CodesChunk]:
        """Sends float32 audio chunks ([channels, frames] or [frames]) as they
        come and yields (levels, start_frame, scales) for each run of codes as
        soon as the server finalises it. `summary`, a dict if given, receives
        frames and num_samples at the end."""

        def requests() -> Iterator[codec_pb2.EncodeRequest]:
            yield messages.encode_config(model, sample_rate, channels, bandwidth_kbps, n_q)
            for chunk in chunks:
                yield messages.pcm_request(chunk, channels)

        try:
            for response in self._codec.Encode(requests(), **self._call):
                codes = messages.codes_of(response, summary)
                if codes is not None:
                    yield codes
        except grpc.RpcError as error:
            raise CodecError.from_rpc(error) from None

    def decode_stream(self, model: str, chunks: Iterable[messages.TokenChunk],
                      num_samples: int = 0, noise: str = "random",
                      seed: int = 0,
                      lookahead_frames: Optional[int] = None) -> Iterator[np.ndarray]:
        """Sends token chunks (each a list of [codebooks, frames] level arrays
        in whole groups of the coarsest level, or (levels, scales)) as they come
        and yields float32 audio [channels, frames] as soon as it is final.
        `lookahead_frames` below the model's decode_lookahead_frames sends
        audio earlier, computed as if the codes ended there, never revised."""

        def requests() -> Iterator[codec_pb2.DecodeRequest]:
            yield messages.decode_config(model, num_samples, noise, seed, lookahead_frames)
            for chunk in chunks:
                yield messages.tokens_request(chunk)

        try:
            for response in self._codec.Decode(requests(), **self._call):
                yield messages.audio_of(response)
        except grpc.RpcError as error:
            raise CodecError.from_rpc(error) from None

    def encode(self, model: str, audio: np.ndarray, sample_rate: int,
               bandwidth_kbps: Optional[float] = None, n_q: Optional[int] = None,
               chunk_frames: int = 24000) -> messages.EncodeResult:
        """Encodes float32 audio [channels, frames] (or [frames]) at the model's rate."""
        audio = messages.as_audio(audio)
        result, summary = messages.EncodeResult(), {}
        for levels, _, scales in self.encode_stream(
                model, messages.audio_chunks(audio, chunk_frames), sample_rate, audio.shape[0],
                bandwidth_kbps, n_q, summary):
            result.append(levels, scales)
        result.num_samples = summary.get("num_samples", 0)
        return result

    def decode(self, model: str, levels: Sequence[np.ndarray], num_samples: int = 0,
               scales: Sequence[float] = (), noise: str = "random", seed: int = 0,
               chunk_frames: int = 150) -> np.ndarray:
        """Decodes token levels (coarsest first) to float32 audio [channels, frames]."""
        chunks = messages.token_chunks(levels, scales, chunk_frames)
        return messages.joined(list(self.decode_stream(model, chunks, num_samples, noise, seed)))

    def load(self, model: str, preset: str, weights: str = "",
             device: str = "") -> codec_pb2.ModelInfo:
        """Loads `weights` (under the server's model repository) as `model`."""
        request = codec_pb2.LoadRequest(model_id=model, preset=preset, weights=weights,
                                        device=device)
        return self._unary(self._models.Load, request).model

    def unload(self, model: str) -> None:
        self._unary(self._models.Unload, codec_pb2.UnloadRequest(model_id=model))

    def list(self) -> List[codec_pb2.ModelInfo]:
        return list(self._unary(self._models.ListModels, codec_pb2.ListModelsRequest()).models)

    def get(self, model: str) -> codec_pb2.ModelInfo:
        return self._unary(self._models.GetModel, codec_pb2.GetModelRequest(model_id=model))

    def devices(self) -> list:
        return list(self._unary(self._models.ListDevices,
                                codec_pb2.ListDevicesRequest()).devices)

    def _unary(self, method, request):
        try:
            return method(request, **self._call)
        except grpc.RpcError as error:
            raise CodecError.from_rpc(error) from None
