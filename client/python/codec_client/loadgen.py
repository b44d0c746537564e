"""TTS load on a codec_server, as its users see it.

Each of --streams streams is a speech model and a player: the model produces
codec frames at --lm_speed times real time (as a language model emits
tokens, --group_frames coarsest groups per message) and sends them to Decode
as they come; the player plays the audio from its first sample at the
model's rate. Per stream: the time to first audio (from the stream's start,
so including the model's time to its first frames), and underruns: how often
the player ran dry, and for how long in all. Across streams: p50 and p99.

    python3 -m codec_client.loadgen --server=127.0.0.1:50051 --model=snac \\
        --streams=1,8,32 --seconds=10 --lm_speed=2

--lookahead_frames runs the low-latency mode (DecodeConfig.lookahead_frames):
audio leaves once that many frames past it have arrived, instead of the
model's full decode lookahead.

The codes are random (uniform over each codebook): a decode costs the same
whatever the codes say.
"""

import argparse
import asyncio
import math
import time
from typing import AsyncIterator, List, NamedTuple, Sequence

import numpy as np

from codec_client.aio import AsyncCodecClient


class StreamResult(NamedTuple):
    first_audio_seconds: float
    underruns: int
    stalled_seconds: float
    audio_seconds: float


class Player:
    """A playback clock from the first sample: audio that arrives after the
    player has played everything before it is an underrun of that wait."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.plays_until = None
        self.underruns = 0
        self.stalled_seconds = 0.0
        self.samples = 0

    def receive(self, now: float, samples: int) -> None:
        if self.plays_until is None:
            self.plays_until = now
        elif now > self.plays_until:
            self.underruns += 1
            self.stalled_seconds += now - self.plays_until
            self.plays_until = now
        self.plays_until += samples / self.sample_rate
        self.samples += samples


class CodeShape(NamedTuple):
    """One coarsest group of a model's codes: per level, its codebooks and frames."""
    codebooks: List[int]
    frames: List[int]
    codebook_size: int
    group_seconds: float


def code_shape(description, codebooks: int) -> CodeShape:
    strides = list(description.level_strides) or [1]
    group = max(strides)
    levels = list(description.codebooks_per_level)
    if codebooks and len(levels) == 1:
        levels = [codebooks]
    return CodeShape(levels, [group // stride for stride in strides], description.codebook_size,
                     group * description.hop_length / description.sample_rate)


async def speech_model(shape: CodeShape, groups: int, group_frames: int, lm_speed: float,
                       start: float, rng: np.random.Generator) -> AsyncIterator[list]:
    """Frame groups as a language model produces them, each message when its
    last group is due."""
    for first in range(0, groups, group_frames):
        count = min(group_frames, groups - first)
        due = start + (first + count) * shape.group_seconds / lm_speed
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        yield [rng.integers(0, shape.codebook_size, (books, frames * count), dtype=np.uint32)
               for books, frames in zip(shape.codebooks, shape.frames)]


async def one_stream(client: AsyncCodecClient, args: argparse.Namespace, shape: CodeShape,
                     sample_rate: int, seed: int) -> StreamResult:
    groups = max(1, math.ceil(args.seconds / shape.group_seconds))
    start = time.monotonic()
    player, first_audio = Player(sample_rate), None
    frames = speech_model(shape, groups, args.group_frames, args.lm_speed, start,
                          np.random.default_rng(seed))
    async for audio in client.decode_stream(args.model, frames, noise="off",
                                            lookahead_frames=args.lookahead_frames):
        now = time.monotonic()
        if first_audio is None:
            first_audio = now - start
        player.receive(now, audio.shape[1])
    return StreamResult(first_audio or 0.0, player.underruns, player.stalled_seconds,
                        player.samples / sample_rate)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, np.float64), q)) if values else 0.0


async def run(args: argparse.Namespace) -> None:
    async with AsyncCodecClient(args.server, timeout=args.timeout) as client:
        description = (await client.get(args.model)).description
        shape = code_shape(description, args.codebooks)
        lookahead = ("exact" if args.lookahead_frames is None else
                     f"{args.lookahead_frames} of {description.decode_lookahead_frames}")
        print(f"| model | lookahead frames | streams | first audio p50 / p99 ms "
              f"| underruns per stream p50 / p99 | stalled s per stream p50 / p99 "
              f"| audio s / wall s |")
        print("|---|---|---|---|---|---|---|")
        for streams in args.streams:
            began = time.monotonic()
            results = await asyncio.gather(*[
                one_stream(client, args, shape, description.sample_rate, seed)
                for seed in range(streams)])
            wall = time.monotonic() - began
            short = [r.audio_seconds for r in results if r.audio_seconds < args.seconds]
            if short:
                raise SystemExit(f"{len(short)} of {streams} streams got less than "
                                 f"{args.seconds} s of audio: {short}")
            first = [r.first_audio_seconds * 1000 for r in results]
            underruns = [r.underruns for r in results]
            stalled = [r.stalled_seconds for r in results]
            audio = sum(r.audio_seconds for r in results)
            print(f"| {args.model} | {lookahead} | {streams} | {percentile(first, 50):.0f} / "
                  f"{percentile(first, 99):.0f} | {percentile(underruns, 50):.0f} / "
                  f"{percentile(underruns, 99):.0f} | {percentile(stalled, 50):.2f} / "
                  f"{percentile(stalled, 99):.2f} | {audio / wall:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--model", required=True, help="A loaded model's id.")
    parser.add_argument("--streams", default="1,8,32",
                        type=lambda text: [int(n) for n in text.split(",")],
                        help="Concurrent stream counts, one run each.")
    parser.add_argument("--seconds", type=float, default=10, help="Speech per stream.")
    parser.add_argument("--lm_speed", type=float, default=2.0,
                        help="How many times real time the speech model produces codes.")
    parser.add_argument("--group_frames", type=int, default=1,
                        help="Coarsest code groups per message (SNAC: 7 codes each).")
    parser.add_argument("--codebooks", type=int, default=0,
                        help="Codebooks of a one-level model (EnCodec 24 kHz at 6 kbps: 8); "
                             "0: all.")
    parser.add_argument("--lookahead_frames", type=int, default=None,
                        help="The decode's lookahead bound (low-latency mode); default: exact.")
    parser.add_argument("--timeout", type=float, default=600)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
