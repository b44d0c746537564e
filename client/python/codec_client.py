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

Streaming (send while receiving): `encode_stream` takes an iterable of audio
chunks and yields token chunks as the server finalises them;
`decode_stream` takes an iterable of token chunks (lists of level arrays, in
whole groups of the coarsest level) and yields audio chunks as they become
final. A TTS service feeds `decode_stream` from its language model's
generator and plays each yielded array at once:

    for audio in client.decode_stream("snac", frames_from_lm(), noise="off"):
        play(audio)
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

    def append(self, levels, scales):
        if not self.levels:
            self.levels = [np.zeros((level.shape[0], 0), np.uint32) for level in levels]
        for i, level in enumerate(levels):
            self.levels[i] = np.concatenate([self.levels[i], level], axis=1)
        self.scales.extend(scales)


class CodecClient:
    """Streams audio and tokens to a codec_server in chunks."""

    def __init__(self, target, timeout=None, channel=None, root_certificates=None,
                 private_key=None, certificate_chain=None, tls=False, token=None):
        """Plaintext by default; TLS when `tls` or any PEM (bytes) is given:
        `root_certificates` the server's certificate must chain to (the system's
        roots when None), `private_key` and `certificate_chain` for servers that
        require a client certificate. `token` goes with every call as
        `authorization: Bearer <token>`."""
        if channel is None and (tls or root_certificates or certificate_chain):
            channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(
                root_certificates, private_key, certificate_chain))
        self._channel = channel or grpc.insecure_channel(target)
        self._codec = codec_pb2_grpc.CodecServiceStub(self._channel)
        self._models = codec_pb2_grpc.ModelServiceStub(self._channel)
        self._call = {"timeout": timeout}
        if token:
            self._call["metadata"] = (("authorization", f"Bearer {token}"),)

    def close(self):
        self._channel.close()

    def encode_stream(self, model, chunks, sample_rate, channels=1, bandwidth_kbps=None,
                      n_q=None, summary=None):
        """Streams float32 audio chunks ([channels, frames] or [frames]) and yields,
        as they arrive, (levels, start_frame, scales) for each run of final codes.
        `summary`, a dict if given, receives frames and num_samples at the end."""
        config = codec_pb2.EncodeConfig(model_id=model, sample_rate=sample_rate,
                                        channels=channels, format=codec_pb2.SAMPLE_FORMAT_F32LE)
        if bandwidth_kbps is not None:
            config.bandwidth_kbps = bandwidth_kbps
        if n_q is not None:
            config.n_q = n_q

        def requests():
            yield codec_pb2.EncodeRequest(config=config)
            for chunk in chunks:
                chunk = np.asarray(chunk, np.float32).reshape(channels, -1)
                yield codec_pb2.EncodeRequest(pcm=np.ascontiguousarray(chunk.T).astype("<f4")
                                              .tobytes())

        for response in self._codec.Encode(requests(), **self._call):
            if response.HasField("summary"):
                if summary is not None:
                    summary["frames"] = response.summary.frames
                    summary["num_samples"] = response.summary.num_samples
                continue
            tokens = response.tokens
            levels = [np.asarray(level.values, np.uint32).reshape(level.num_codebooks,
                                                                  level.frames)
                      for level in tokens.levels]
            yield levels, tokens.start_frame, list(tokens.scales)

    def decode_stream(self, model, chunks, num_samples=0, noise="random", seed=0):
        """Streams token chunks (each a list of [codebooks, frames] level arrays,
        or (levels, scales)) and yields float32 audio [channels, frames] as soon
        as it is final."""
        config = codec_pb2.DecodeConfig(model_id=model, format=codec_pb2.SAMPLE_FORMAT_F32LE,
                                        noise=_NOISE[noise], seed=seed, num_samples=num_samples)

        def requests():
            yield codec_pb2.DecodeRequest(config=config)
            for chunk in chunks:
                levels, scales = chunk if isinstance(chunk, tuple) else (chunk, ())
                message = codec_pb2.TokenChunk(scales=list(scales))
                for level in levels:
                    level = np.asarray(level, np.uint32).reshape(-1, np.shape(level)[-1])
                    message.levels.add(num_codebooks=level.shape[0], frames=level.shape[1],
                                       values=level.reshape(-1).tolist())
                yield codec_pb2.DecodeRequest(tokens=message)

        for response in self._codec.Decode(requests(), **self._call):
            samples = np.frombuffer(response.pcm, "<f4")
            yield samples.reshape(-1, response.channels).T.copy()

    def encode(self, model, audio, sample_rate, bandwidth_kbps=None, n_q=None, chunk_frames=24000):
        """Encodes float32 audio [channels, frames] at the model's rate: EncodeResult."""
        audio = np.asarray(audio, np.float32)
        if audio.ndim == 1:
            audio = audio[None, :]
        chunks = (audio[:, first:first + chunk_frames]
                  for first in range(0, audio.shape[1], chunk_frames))
        result, summary = EncodeResult(), {}
        for levels, _, scales in self.encode_stream(model, chunks, sample_rate, audio.shape[0],
                                                    bandwidth_kbps, n_q, summary):
            result.append(levels, scales)
        result.num_samples = summary.get("num_samples", 0)
        return result

    def decode(self, model, levels, num_samples=0, scales=(), noise="random", seed=0,
               chunk_frames=150):
        """Decodes token levels (coarsest first) to float32 audio [channels, frames]."""
        levels = [np.asarray(level, np.uint32).reshape(-1, np.shape(level)[-1]) for level in levels]
        finest = levels[-1].shape[1]
        coarsest_stride = finest // levels[0].shape[1]
        step = max(1, chunk_frames // coarsest_stride) * coarsest_stride

        def chunks():
            for first in range(0, finest, step):
                parts = [level[:, first // (finest // level.shape[1]):
                               (first + step) // (finest // level.shape[1])] for level in levels]
                yield parts, (list(scales) if first == 0 else [])

        audio = list(self.decode_stream(model, chunks(), num_samples, noise, seed))
        return np.concatenate(audio, axis=1) if audio else np.zeros((1, 0), np.float32)

    def load(self, model, preset, weights="", device=""):
        request = codec_pb2.LoadRequest(model_id=model, preset=preset, weights=weights,
                                        device=device)
        return self._models.Load(request, **self._call).model

    def unload(self, model):
        self._models.Unload(codec_pb2.UnloadRequest(model_id=model), **self._call)

    def list(self):
        return list(self._models.ListModels(codec_pb2.ListModelsRequest(),
                                            **self._call).models)

    def get(self, model):
        return self._models.GetModel(codec_pb2.GetModelRequest(model_id=model),
                                     **self._call)

    def devices(self):
        return list(self._models.ListDevices(codec_pb2.ListDevicesRequest(),
                                             **self._call).devices)
