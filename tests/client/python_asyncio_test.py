"""The asyncio client, installed from the wheel, against a real codec_server:
64 streams on one event loop (32 encodes fed by async generators, 32
decodes), each equal to the upstream reference; model management and errors
as coroutines."""

import asyncio
import sys
import unittest

import grpc
import numpy as np

from codec_client import AsyncCodecClient, CodecError
from codec.v1 import codec_pb2
import fixture_reference
from wav_file import read_wav

FIXTURES = "tests/fixtures"
STREAMS_PER_DIRECTION = 32


def reference(name):
    return fixture_reference.reference(FIXTURES, name)


async def microphone(audio, chunk):
    """Audio as a capture loop delivers it: a chunk at a time, yielding the loop."""
    for first in range(0, audio.shape[1], chunk):
        await asyncio.sleep(0)
        yield audio[:, first:first + chunk]


async def language_model(levels, strides):
    """SNAC codes as a language model produces them: one frame group at a time."""
    for group in range(levels[0].shape[1]):
        await asyncio.sleep(0)
        yield [level[:, group * n:(group + 1) * n] for level, n in zip(levels, strides)]


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = AsyncCodecClient(f"127.0.0.1:{sys.argv[1]}", timeout=120)

    async def asyncTearDown(self):
        await self.client.close()

    async def encode_one(self, audio, rate):
        parts, summary = [], {}
        async for levels, start_frame, _ in self.client.encode_stream(
                "encodec24_tiny_bw6", microphone(audio, 960), rate, n_q=8, summary=summary):
            self.assertEqual(start_frame, sum(p.shape[1] for p in parts))
            parts.append(levels[0])
        self.assertEqual(summary["num_samples"], audio.shape[1])
        return np.concatenate(parts, axis=1)

    async def decode_one(self, levels, num_samples):
        chunks = [chunk async for chunk in self.client.decode_stream(
            "snac24_tiny", language_model(levels, (1, 2, 4)), num_samples=num_samples,
            noise="off")]
        return np.concatenate(chunks, axis=1)

    async def test_64_streams_on_one_event_loop_equal_the_reference(self):
        audio, rate = read_wav(f"{FIXTURES}/encodec24_tiny_bw6/input.wav")
        expected_codes, _ = reference("encodec24_tiny_bw6")
        snac_levels, snac_audio = reference("snac24_tiny")
        encodes = [self.encode_one(audio, rate) for _ in range(STREAMS_PER_DIRECTION)]
        decodes = [self.decode_one(snac_levels, snac_audio.shape[1])
                   for _ in range(STREAMS_PER_DIRECTION)]
        results = await asyncio.gather(*encodes, *decodes)
        for codes in results[:STREAMS_PER_DIRECTION]:
            self.assertEqual(codes.shape, expected_codes[0].shape)
            self.assertGreaterEqual(np.mean(codes == expected_codes[0]), 0.999)
        for decoded in results[STREAMS_PER_DIRECTION:]:
            self.assertEqual(decoded.shape, snac_audio.shape)
            self.assertLessEqual(float(np.abs(decoded - snac_audio).max()), 1e-4)

    async def test_whole_arrays(self):
        audio, rate = read_wav(f"{FIXTURES}/encodec24_tiny_bw6/input.wav")
        expected_codes, expected_audio = reference("encodec24_tiny_bw6")
        result = await self.client.encode("encodec24_tiny_bw6", audio, rate, n_q=8)
        self.assertEqual(result.num_samples, audio.shape[1])
        self.assertGreaterEqual(np.mean(result.levels[0] == expected_codes[0]), 0.999)
        decoded = await self.client.decode("encodec24_tiny_bw6", expected_codes,
                                           num_samples=audio.shape[1], noise="off")
        self.assertLessEqual(float(np.abs(decoded - expected_audio).max()), 1e-4)

    async def test_model_service(self):
        names = {info.model_id: info for info in await self.client.list()}
        self.assertEqual(names["snac24_tiny"].state, codec_pb2.MODEL_STATE_READY)
        info = await self.client.load("extra_async", "dac", "dac16_tiny")
        self.assertEqual(info.description.sample_rate, 16000)
        await self.client.unload("extra_async")
        self.assertEqual((await self.client.get("extra_async")).state,
                         codec_pb2.MODEL_STATE_UNLOADED)

    async def test_errors_carry_the_grpc_code_and_message(self):
        audio, rate = read_wav(f"{FIXTURES}/encodec24_tiny_bw6/input.wav")
        with self.assertRaises(CodecError) as unknown:
            await self.client.encode("nope", audio, rate)
        self.assertEqual(unknown.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("nope", unknown.exception.details())
        with self.assertRaises(CodecError) as missing:
            await self.client.get("never_loaded")
        self.assertEqual(missing.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
