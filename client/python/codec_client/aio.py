"""The asyncio client (grpc.aio): the same methods as CodecClient, as
coroutines and async iterators, so that one event loop serves many streams."""

from typing import (AsyncIterable, AsyncIterator, Dict, Iterable, List, Optional, Sequence,
                    TypeVar, Union)

import grpc
import grpc.aio
import numpy as np

from codec.v1 import codec_pb2, codec_pb2_grpc
from codec_client import _messages as messages
from codec_client._errors import CodecError

T = TypeVar("T")


async def _each(chunks: Union[Iterable[T], AsyncIterable[T]]) -> AsyncIterator[T]:
    """Chunks from a plain or an async iterable (a language model's async generator)."""
    if hasattr(chunks, "__aiter__"):
        async for chunk in chunks:  # type: ignore[union-attr]
            yield chunk
    else:
        for chunk in chunks:  # type: ignore[union-attr]
            yield chunk


class AsyncCodecClient:
    """CodecClient for asyncio: create it inside the running event loop.

    Arguments as CodecClient's; a failed call raises CodecError.
    """

    def __init__(self, target: str, timeout: Optional[float] = None,
                 channel: Optional[grpc.aio.Channel] = None,
                 root_certificates: Optional[bytes] = None, private_key: Optional[bytes] = None,
                 certificate_chain: Optional[bytes] = None, tls: bool = False,
                 token: Optional[str] = None) -> None:
        if channel is None:
            channel = messages.open_channel(grpc.aio, target, tls, root_certificates, private_key,
                                            certificate_chain)
        self._channel = channel
        self._codec = codec_pb2_grpc.CodecServiceStub(channel)
        self._models = codec_pb2_grpc.ModelServiceStub(channel)
        self._call = messages.call_options(timeout, token)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "AsyncCodecClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def encode_stream(self, model: str,
                            chunks: Union[Iterable[np.ndarray], AsyncIterable[np.ndarray]],
                            sample_rate: int, channels: int = 1,
                            bandwidth_kbps: Optional[float] = None, n_q: Optional[int] = None,
                            summary: Optional[Dict[str, int]] = None
                            ) -> AsyncIterator[messages.CodesChunk]:
        """As CodecClient.encode_stream; `chunks` may be an async iterable."""

        async def requests() -> AsyncIterator[codec_pb2.EncodeRequest]:
            yield messages.encode_config(model, sample_rate, channels, bandwidth_kbps, n_q)
            async for chunk in _each(chunks):
                yield messages.pcm_request(chunk, channels)

        try:
            async for response in self._codec.Encode(requests(), **self._call):
                codes = messages.codes_of(response, summary)
                if codes is not None:
                    yield codes
        except grpc.RpcError as error:
            raise CodecError.from_rpc(error) from None

    async def decode_stream(self, model: str,
                            chunks: Union[Iterable[messages.TokenChunk],
                                          AsyncIterable[messages.TokenChunk]],
                            num_samples: int = 0, noise: str = "random",
                            seed: int = 0,
                            lookahead_frames: Optional[int] = None
                            ) -> AsyncIterator[np.ndarray]:
        """As CodecClient.decode_stream; `chunks` may be an async iterable."""

        async def requests() -> AsyncIterator[codec_pb2.DecodeRequest]:
            yield messages.decode_config(model, num_samples, noise, seed, lookahead_frames)
            async for chunk in _each(chunks):
                yield messages.tokens_request(chunk)

        try:
            async for response in self._codec.Decode(requests(), **self._call):
                yield messages.audio_of(response)
        except grpc.RpcError as error:
            raise CodecError.from_rpc(error) from None

    async def encode(self, model: str, audio: np.ndarray, sample_rate: int,
                     bandwidth_kbps: Optional[float] = None, n_q: Optional[int] = None,
                     chunk_frames: int = 24000) -> messages.EncodeResult:
        """As CodecClient.encode."""
        audio = messages.as_audio(audio)
        result, summary = messages.EncodeResult(), {}
        async for levels, _, scales in self.encode_stream(
                model, messages.audio_chunks(audio, chunk_frames), sample_rate, audio.shape[0],
                bandwidth_kbps, n_q, summary):
            result.append(levels, scales)
        result.num_samples = summary.get("num_samples", 0)
        return result

    async def decode(self, model: str, levels: Sequence[np.ndarray], num_samples: int = 0,
                     scales: Sequence[float] = (), noise: str = "random", seed: int = 0,
                     chunk_frames: int = 150) -> np.ndarray:
        """As CodecClient.decode."""
        chunks = messages.token_chunks(levels, scales, chunk_frames)
        audio = [chunk async for chunk in self.decode_stream(model, chunks, num_samples, noise,
                                                             seed)]
        return messages.joined(audio)

    async def load(self, model: str, preset: str, weights: str = "",
                   device: str = "") -> codec_pb2.ModelInfo:
        request = codec_pb2.LoadRequest(model_id=model, preset=preset, weights=weights,
                                        device=device)
        return (await self._unary(self._models.Load, request)).model

    async def unload(self, model: str) -> None:
        await self._unary(self._models.Unload, codec_pb2.UnloadRequest(model_id=model))

    async def list(self) -> List[codec_pb2.ModelInfo]:
        response = await self._unary(self._models.ListModels, codec_pb2.ListModelsRequest())
        return list(response.models)

    async def get(self, model: str) -> codec_pb2.ModelInfo:
        return await self._unary(self._models.GetModel, codec_pb2.GetModelRequest(model_id=model))

    async def devices(self) -> list:
        response = await self._unary(self._models.ListDevices, codec_pb2.ListDevicesRequest())
        return list(response.devices)

    async def _unary(self, method, request):
        try:
            return await method(request, **self._call)
        except grpc.RpcError as error:
            raise CodecError.from_rpc(error) from None
