"""Client of codec_server: PCM audio to codec tokens and back, over gRPC.

Audio is float32 numpy, [channels, frames] (or [frames] for mono). Tokens are
one uint32 array per level, [num_codebooks, frames], coarsest level first
(EnCodec, DAC and Mimi have one level, SNAC three). A failed call raises
CodecError, with the gRPC status code (`.code()`) and the server's message
(`.details()`).

Encode and decode whole arrays::

    from codec_client import CodecClient

    with CodecClient("localhost:50051") as client:
        result = client.encode("snac", audio, sample_rate=24000)
        audio = client.decode("snac", result.levels, num_samples=result.num_samples,
                              noise="off")

Stream: send while receiving. A TTS service feeds decode_stream from its
language model and plays each chunk at once::

    for chunk in client.decode_stream("snac", frames_from_lm(), noise="off"):
        play(chunk)

    # Low latency: a frame's audio as soon as the frame arrives, computed as
    # if the codes ended there and never revised (default: exact).
    for chunk in client.decode_stream("snac", frames_from_lm(), noise="off",
                                      lookahead_frames=0):
        play(chunk)

    for levels, start_frame, scales in client.encode_stream("mimi", mic_chunks(), 24000):
        send_to_lm(levels)

asyncio: the same methods on AsyncCodecClient, so one event loop serves many
conversations; chunks may come from an async generator::

    from codec_client import AsyncCodecClient

    async with AsyncCodecClient("localhost:50051") as client:
        async for chunk in client.decode_stream("snac", lm.generate_frames(), noise="off"):
            await player.write(chunk)
        result = await client.encode("encodec", audio, 24000, bandwidth_kbps=6)

Manage models (an admin token where the server requires one)::

    client = CodecClient("localhost:50051", token=admin_token)
    client.load("dac", preset="dac_44khz", weights="dac/weights.pth")
    print([(m.model_id, m.state) for m in client.list()])
    client.unload("dac")

TLS and tokens::

    client = CodecClient("codec.internal:443", root_certificates=open("ca.pem", "rb").read(),
                         token="client-token")
"""

from codec_client._errors import CodecError
from codec_client._messages import EncodeResult
from codec_client.aio import AsyncCodecClient
from codec_client.client import CodecClient

__all__ = ["AsyncCodecClient", "CodecClient", "CodecError", "EncodeResult"]
