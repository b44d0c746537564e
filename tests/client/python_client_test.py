"""The Python client against a real codec_server: its encodes equal the
upstream reference's codes, its decodes the reference's audio, for a
single-level (EnCodec) and a multi-level (SNAC) codec, in several chunk
sizes; ModelService calls and errors come back as gRPC statuses."""

import sys
import threading
import time
import unittest

import grpc
import numpy as np

from codec_client import CodecClient
from codec.v1 import codec_pb2
import fixture_reference
from wav_file import read_wav

FIXTURES = "tests/fixtures"


def reference(name):
    return fixture_reference.reference(FIXTURES, name)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = CodecClient(f"127.0.0.1:{sys.argv[1]}", timeout=60)

    def check_codec(self, model, n_q=None):
        audio, rate = read_wav(f"{FIXTURES}/{model}/input.wav")
        expected_levels, expected_audio = reference(model)
        for chunk in (1000, 24000, 10**9):
            result = self.client.encode(model, audio, rate, n_q=n_q, chunk_frames=chunk)
            self.assertEqual(result.num_samples, audio.shape[1])
            self.assertEqual(len(result.levels), len(expected_levels))
            # Streamed codes equal the reference's up to float near-ties: the
            # project's bar, at least 99.9 % identical.
            for got, want in zip(result.levels, expected_levels):
                self.assertEqual(got.shape, want.shape)
                self.assertGreaterEqual(np.mean(got == want.astype(np.uint32)), 0.999)
        for chunk in (4, 150, 10**9):
            decoded = self.client.decode(model, expected_levels, num_samples=audio.shape[1],
                                         noise="off", chunk_frames=chunk)
            self.assertEqual(decoded.shape, expected_audio.shape)
            self.assertLessEqual(float(np.abs(decoded - expected_audio).max()), 1e-4)

    def test_encodec_equals_reference(self):
        self.check_codec("encodec24_tiny_bw6", n_q=8)

    def test_snac_equals_reference(self):
        self.check_codec("snac24_tiny")

    def test_decode_stream_yields_audio_while_tokens_are_still_coming(self):
        """A TTS-style producer: a generator of SNAC frame groups (1 + 2 + 4
        codes); audio must come out before half of it has been produced, and
        all of it must equal the reference decode."""
        levels, expected_audio = reference("snac24_tiny")
        groups = levels[0].shape[1]
        produced = [0]

        def frames():
            for g in range(groups):
                time.sleep(0.03)  # A language model taking its time per frame.
                produced[0] = g + 1
                yield [level[:, g * n:(g + 1) * n] for level, n in zip(levels, (1, 2, 4))]

        chunks, produced_at_first = [], None
        for audio in self.client.decode_stream("snac24_tiny", frames(), noise="off",
                                               num_samples=expected_audio.shape[1]):
            if produced_at_first is None:
                produced_at_first = produced[0]
            chunks.append(audio)
        self.assertLess(produced_at_first, groups // 2)
        decoded = np.concatenate(chunks, axis=1)
        self.assertEqual(decoded.shape, expected_audio.shape)
        self.assertLessEqual(float(np.abs(decoded - expected_audio).max()), 1e-4)

    def test_lookahead_bound_sends_first_audio_before_more_codes(self):
        """lookahead_frames=0: the first group's audio comes back before the
        producer sends a second (it waits for that audio, with a deadline);
        the stream is as long as the exact one. At the model's full lookahead
        the audio is the exact stream's, bit for bit."""
        levels, expected_audio = reference("snac24_tiny")
        groups = levels[0].shape[1]
        chunks = [[level[:, g * n:(g + 1) * n] for level, n in zip(levels, (1, 2, 4))]
                  for g in range(groups)]
        first_audio = threading.Event()
        waited = []

        def producer():
            yield chunks[0]
            waited.append(first_audio.wait(timeout=30))
            yield from chunks[1:]

        out = []
        for audio in self.client.decode_stream("snac24_tiny", producer(), noise="off",
                                               num_samples=expected_audio.shape[1],
                                               lookahead_frames=0):
            first_audio.set()
            out.append(audio)
        self.assertEqual(waited, [True])
        self.assertEqual(np.concatenate(out, axis=1).shape, expected_audio.shape)

        full = self.client.get("snac24_tiny").description.decode_lookahead_frames
        self.assertGreater(full, 0)

        def decode(lookahead):
            return np.concatenate(list(self.client.decode_stream(
                "snac24_tiny", iter(chunks), noise="off", num_samples=expected_audio.shape[1],
                lookahead_frames=lookahead)), axis=1)

        self.assertTrue(np.array_equal(decode(full), decode(None)))

    def test_encode_stream_yields_codes_while_audio_is_still_coming(self):
        audio, rate = read_wav(f"{FIXTURES}/encodec24_tiny_bw6/input.wav")
        expected_levels, _ = reference("encodec24_tiny_bw6")
        chunk = 960  # 40 ms
        sent = [0]

        def pieces():
            for first in range(0, audio.shape[1], chunk):
                time.sleep(0.01)  # A microphone, faster than real time.
                sent[0] += 1
                yield audio[:, first:first + chunk]

        parts, sent_at_first, summary = [], None, {}
        for levels, start_frame, _ in self.client.encode_stream("encodec24_tiny_bw6", pieces(),
                                                                rate, n_q=8, summary=summary):
            if sent_at_first is None:
                sent_at_first = sent[0]
            self.assertEqual(start_frame, sum(p.shape[1] for p in parts))
            parts.append(levels[0])
        self.assertLess(sent_at_first, -(-audio.shape[1] // chunk) // 2)
        codes = np.concatenate(parts, axis=1)
        self.assertEqual(codes.shape, expected_levels[0].shape)
        self.assertGreaterEqual(np.mean(codes == expected_levels[0]), 0.999)
        self.assertEqual(summary["num_samples"], audio.shape[1])

    def test_model_service(self):
        names = {info.model_id: info for info in self.client.list()}
        self.assertEqual(names["encodec24_tiny_bw6"].state, codec_pb2.MODEL_STATE_READY)
        self.assertGreater(names["encodec24_tiny_bw6"].memory_bytes, 0)
        info = self.client.load("extra", "dac", "dac16_tiny")
        self.assertEqual(info.description.sample_rate, 16000)
        self.client.unload("extra")
        self.assertEqual(self.client.get("extra").state, codec_pb2.MODEL_STATE_UNLOADED)

    def test_errors_are_grpc_statuses(self):
        audio, rate = read_wav(f"{FIXTURES}/encodec24_tiny_bw6/input.wav")
        with self.assertRaises(grpc.RpcError) as unknown:
            self.client.encode("nope", audio, rate)
        self.assertEqual(unknown.exception.code(), grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(grpc.RpcError) as wrong_rate:
            self.client.encode("encodec24_tiny_bw6", audio, 16000)
        self.assertEqual(wrong_rate.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(grpc.RpcError) as out_of_range:
            self.client.decode("encodec24_tiny_bw6", [np.full((8, 10), 5000)])
        self.assertEqual(out_of_range.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
