"""A Python client of codec_server, on Debian's python3-grpcio.

Uses the stubs generated from proto/codec/v1/codec.proto (bazel build
//proto:codec_v1_py puts them in bazel-bin/proto; add that folder and this
one to PYTHONPATH):

    import numpy as np
    from codec_client import CodecClient

    client = CodecClient("localhost:50051")
    levels, num_samples = client.encode("snac", audio, sample_rate=24000)
    audio = client.decode("snac", levels, num_samples=num_samples, noise="off")

Audio is float32 numpy, shaped [channels, frames]. Tokens are one uint32
array per level, shaped [num_codebooks, frames], coarsest level first (EnCodec
and DAC have one level, SNAC three). Server errors raise grpc.RpcError with
the server's status code and message.
"""

import grpc
import numpy as np

from codec.v1 import codec_pb2, codec_pb2_grpc

_NOISE = {
    "random": codec_pb2.NOISE_MODE_RANDOM,
    "off": codec_pb2.NOISE_MODE_OFF,
    "seeded": codec_pb2.NOISE_MODE_SEEDED,
}


class EncodeResult:
    """Tokens of one stream: `levels`, `num_samples` and EnCodec 48 kHz `scales`."""

    def __init__(self):
        self.levels = []
        self.scales = []
        self.num_samples = 0

    def append(self, chunk):
        if not self.levels:
            self.levels = [np.zeros((level.num_codebooks, 0), np.uint32) for level in chunk.levels]
        for i, level in enumerate(chunk.levels):
            values = np.asarray(level.values, np.uint32).reshape(level.num_codebooks, level.frames)
            self.levels[i] = np.concatenate([self.levels[i], values], axis=1)
        self.scales.extend(chunk.scales)


class CodecClient:
    """Streams audio and tokens to a codec_server in chunks."""

    def __init__(self, target, timeout=None, channel=None):
        self._channel = channel or grpc.insecure_channel(target)
        self._codec = codec_pb2_grpc.CodecServiceStub(self._channel)
        self._models = codec_pb2_grpc.ModelServiceStub(self._channel)
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def encode(self, model, audio, sample_rate, bandwidth_kbps=None, n_q=None, chunk_frames=24000):
        """Encodes float32 audio [channels, frames] at the model's rate: EncodeResult."""
        audio = np.asarray(audio, np.float32)
        if audio.ndim == 1:
            audio = audio[None, :]
        config = codec_pb2.EncodeConfig(model_id=model, sample_rate=sample_rate,
                                        channels=audio.shape[0],
                                        format=codec_pb2.SAMPLE_FORMAT_F32LE)
        if bandwidth_kbps is not None:
            config.bandwidth_kbps = bandwidth_kbps
        if n_q is not None:
            config.n_q = n_q
        interleaved = np.ascontiguousarray(audio.T).astype("<f4")

        def requests():
            yield codec_pb2.EncodeRequest(config=config)
            for first in range(0, interleaved.shape[0], chunk_frames):
                yield codec_pb2.EncodeRequest(pcm=interleaved[first:first + chunk_frames].tobytes())

        result = EncodeResult()
        for response in self._codec.Encode(requests(), timeout=self._timeout):
            if response.HasField("summary"):
                result.num_samples = response.summary.num_samples
            else:
                result.append(response.tokens)
        return result

    def decode(self, model, levels, num_samples=0, scales=(), noise="random", seed=0,
               chunk_frames=150):
        """Decodes token levels (coarsest first) to float32 audio [channels, frames]."""
        levels = [np.asarray(level, np.uint32).reshape(-1, np.shape(level)[-1]) for level in levels]
        config = codec_pb2.DecodeConfig(model_id=model, format=codec_pb2.SAMPLE_FORMAT_F32LE,
                                        noise=_NOISE[noise], seed=seed, num_samples=num_samples)
        finest = levels[-1].shape[1]
        coarsest_stride = finest // levels[0].shape[1]
        step = max(1, chunk_frames // coarsest_stride) * coarsest_stride

        def requests():
            yield codec_pb2.DecodeRequest(config=config)
            for first in range(0, finest, step):
                chunk = codec_pb2.TokenChunk(start_frame=first,
                                             scales=list(scales) if first == 0 else [])
                for level in levels:
                    stride = finest // level.shape[1]
                    part = level[:, first // stride:(first + step) // stride]
                    chunk.levels.add(num_codebooks=part.shape[0], frames=part.shape[1],
                                     values=part.reshape(-1).tolist())
                yield codec_pb2.DecodeRequest(tokens=chunk)

        pcm, channels = [], 1
        for response in self._codec.Decode(requests(), timeout=self._timeout):
            pcm.append(response.pcm)
            channels = response.channels
        samples = np.frombuffer(b"".join(pcm), "<f4")
        return samples.reshape(-1, channels).T.copy()

    def load(self, model, preset, weights="", device=""):
        request = codec_pb2.LoadRequest(model_id=model, preset=preset, weights=weights,
                                        device=device)
        return self._models.Load(request, timeout=self._timeout).model

    def unload(self, model):
        self._models.Unload(codec_pb2.UnloadRequest(model_id=model), timeout=self._timeout)

    def list(self):
        return list(self._models.ListModels(codec_pb2.ListModelsRequest(),
                                            timeout=self._timeout).models)

    def get(self, model):
        return self._models.GetModel(codec_pb2.GetModelRequest(model_id=model),
                                     timeout=self._timeout)
