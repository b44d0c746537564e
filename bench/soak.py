"""A soak of the real codec_server: mixed load for --minutes, every finished
stream checked, the server's memory, threads and descriptors sampled.

    bash bench/soak.sh [--minutes=10]      # builds the server and the client first

Load, from --workers threads for the whole run:
- encode and decode streams of every family's fixture (EnCodec 24 and 48 kHz,
  DAC, SNAC, Mimi), unpaced or paced at real time, each checked against the
  upstream reference (codes >= 99.9 % identical, audio within 1e-4);
- streams the client cancels mid-way, and clients (child processes) killed
  mid-stream with SIGKILL;
- a stream past its deadline now and then;
- Load/Unload churn of a second model, with streams on it;
- a stream memory budget small enough that some streams are refused.
The server's resident memory, threads and open descriptors are sampled
every few seconds, and once a minute with the load paused (the idle
server); growth compares the idle floor of the steady state's first third
with its last third (must stay under 5 %).
"""

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import grpc
import numpy as np

from codec.v1 import codec_pb2_grpc
from codec_client import CodecClient, CodecError
from codec_client import _messages as messages

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "testing"))
import fixture_reference  # noqa: E402
from wav_file import read_wav  # noqa: E402

FIXTURES = {  # model id -> fixture
    "encodec": "encodec24_tiny_bw6",
    "encodec48": "encodec48_tiny_stereo_bw6",
    "dac": "dac16_tiny",
    "snac": "snac24_tiny",
    "mimi": "mimi_tiny_nq8",
}
CHURN = "churn"  # Loaded and unloaded all run long.


class Case:
    """One fixture: its input, the reference's codes and audio, its settings."""

    def __init__(self, fixtures, model, name):
        self.model = model
        self.audio, self.rate = read_wav(f"{fixtures}/{name}/input.wav")
        self.levels, self.decoded = fixture_reference.reference(fixtures, name)
        with open(f"{fixtures}/{name}/meta.json") as meta_file:
            meta = json.load(meta_file)
        self.bandwidth = meta.get("bandwidth")
        self.n_q = None if self.bandwidth else meta.get("n_q")
        self.scales = ()
        if "scales" in np.load(f"{fixtures}/{name}/expected.npz"):
            self.scales = list(np.load(f"{fixtures}/{name}/expected.npz")["scales"].ravel())
        self.group = max(1, self.levels[-1].shape[1] // self.levels[0].shape[1])
        self.frame_seconds = self.audio.shape[1] / self.rate / self.levels[-1].shape[1]


def audio_chunks(case, pace, stop_after=None):
    step = max(1, case.audio.shape[1] // 10)
    for i, first in enumerate(range(0, case.audio.shape[1], step)):
        if stop_after is not None and i == stop_after:
            return
        if pace:
            time.sleep(step / case.rate)
        yield case.audio[:, first:first + step]


def token_chunks(case, pace):
    coarse = case.levels[0].shape[1]
    for g in range(0, coarse, 2):
        if pace:
            time.sleep(2 * case.group * case.frame_seconds)
        chunk = [level[:, g * level.shape[1] // coarse:(g + 2) * level.shape[1] // coarse]
                 for level in case.levels]
        yield (chunk, case.scales) if case.scales and g == 0 else chunk


def run_encode(client, case, pace):
    parts = [levels for levels, _, _ in client.encode_stream(
        case.model, audio_chunks(case, pace), case.rate, case.audio.shape[0],
        bandwidth_kbps=case.bandwidth, n_q=case.n_q)]
    for level, want in enumerate(case.levels):
        got = np.concatenate([p[level] for p in parts], axis=1)
        if got.shape != want.shape or np.mean(got == want.astype(np.uint32)) < 0.999:
            return "wrong"
    return "ok"


def run_decode(client, case, pace):
    audio = np.concatenate(list(client.decode_stream(
        case.model, token_chunks(case, pace), num_samples=case.audio.shape[1], noise="off")),
        axis=1)
    if audio.shape != case.decoded.shape or np.abs(audio - case.decoded).max() > 1e-4:
        return "wrong"
    return "ok"


class Soak:
    def __init__(self, args):
        self.args = args
        self.random = random.Random(args.seed)
        self.outcomes = collections.Counter()
        self.lock = threading.Lock()
        self.samples = []
        self.stop = threading.Event()
        self.pause = threading.Event()
        self.busy = 0
        self.churning = False
        self.idle = []  # Samples of the idle server, once a minute in the steady state.

    def count(self, kind, outcome):
        with self.lock:
            self.outcomes[(kind, outcome)] += 1

    def start_server(self):
        models = ",".join(f"{m}={FIXTURES[m].split('_')[0].rstrip('0123456789')}:{FIXTURES[m]}"
                          for m in FIXTURES)
        self.log = open(os.path.join(self.args.workdir, "server.log"), "w")
        self.server = subprocess.Popen(
            [self.args.server, "--listen=127.0.0.1:0", f"--model_repository={self.args.fixtures}",
             f"--models={models}", f"--max_stream_memory_mb={self.args.stream_memory_mb}",
             f"--cpu_block_cache_mb={self.args.cpu_block_cache_mb}"],
            stderr=subprocess.PIPE, text=True)
        for line in self.server.stderr:
            self.log.write(line)
            if "listening on port" in line:
                self.port = int(line.rsplit("port", 1)[1].split()[0])
                break
        threading.Thread(target=lambda: [self.log.write(l) for l in self.server.stderr],
                         daemon=True).start()
        self.target = f"127.0.0.1:{self.port}"
        self.stub = codec_pb2_grpc.CodecServiceStub(grpc.insecure_channel(self.target))

    def sample(self, label=""):
        pid = self.server.pid
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status)
        rss = int(fields["VmRSS"].split()[0]) * 1024
        threads = int(fields["Threads"])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        row = (time.monotonic() - self.began, rss, threads, fds, label)
        with self.lock:
            self.samples.append(row)
        return row

    def sampler(self):
        while not self.stop.wait(self.args.sample_seconds):
            self.sample()

    def pick_stream(self, client, cases):
        """A stream kind at random, and the call that runs it (returning its outcome)."""
        case = self.random.choice(cases)
        roll = self.random.random()
        pace = self.random.random() < 0.3
        if roll < 0.35:
            return ("encode paced" if pace else "encode"), lambda: run_encode(client, case, pace)
        if roll < 0.7:
            return ("decode paced" if pace else "decode"), lambda: run_decode(client, case, pace)
        if roll < 0.8:
            return "cancel", lambda: self.cancelled_stream(case)
        if roll < 0.87:
            return "deadline", lambda: self.hurried_stream(case)
        if roll < 0.93:
            return "killed client", lambda: self.killed_client(case)
        return "churn stream", lambda: run_encode(client, self.churn_case, False)

    def hurried_stream(self, case):
        """Paced audio with a deadline far shorter than the audio."""
        hurried = CodecClient(self.target, timeout=0.2)
        try:
            return run_encode(hurried, case, True)
        finally:
            hurried.close()

    def cancelled_stream(self, case):
        """An encode the client cancels after three chunks, its sending still open."""
        sent, cancelled = threading.Event(), threading.Event()

        def requests():
            yield messages.encode_config(case.model, case.rate, case.audio.shape[0],
                                         case.bandwidth, case.n_q)
            for chunk in list(audio_chunks(case, False))[:3]:
                yield messages.pcm_request(chunk, case.audio.shape[0])
            sent.set()
            cancelled.wait(60)

        call = self.stub.Encode(requests(), timeout=60)
        call.add_done_callback(lambda _: sent.set())  # Refused before it was sent.
        sent.wait(60)
        call.cancel()
        cancelled.set()
        return call.code().name

    def killed_client(self, case):
        """A child process streaming paced audio, killed mid-stream."""
        code = (
            "import sys, time, numpy as np\n"
            "from codec_client import CodecClient\n"
            f"c = CodecClient('{self.target}')\n"
            "def chunks():\n"
            "    while True:\n"
            "        time.sleep(0.05)\n"
            f"        yield np.zeros(({case.audio.shape[0]}, {case.rate // 20}), np.float32)\n"
            f"for _ in c.encode_stream('{case.model}', chunks(), {case.rate}, "
            f"{case.audio.shape[0]}, bandwidth_kbps={case.bandwidth}, n_q={case.n_q}):\n"
            "    print('codes', flush=True)\n")
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        first = child.stdout.readline()  # It is streaming once codes came back.
        child.send_signal(signal.SIGKILL)
        child.wait()
        return "killed" if first else "never streamed"

    def worker(self, seed):
        client = CodecClient(self.target, timeout=120)
        cases = self.cases
        while not self.stop.is_set():
            if self.pause.is_set():
                time.sleep(0.05)
                continue
            with self.lock:
                self.busy += 1
            kind, stream = self.pick_stream(client, cases)
            try:
                outcome = stream()
            except grpc.RpcError as error:  # CodecError is one.
                outcome = error.code().name
                if outcome == "RESOURCE_EXHAUSTED":
                    time.sleep(0.2)  # As a client would back off; else refusals crowd out work.
            finally:
                with self.lock:
                    self.busy -= 1
            self.count(kind, outcome)
        client.close()

    def churner(self):
        """Loads and unloads the second model; unloaded whenever the load pauses."""
        admin = CodecClient(self.target, timeout=120)
        while not self.stop.wait(self.args.churn_seconds / 2):
            with self.lock:
                if self.pause.is_set():
                    continue
                self.churning = True
            try:
                admin.load(CHURN, "encodec", FIXTURES["encodec"])
                self.count("load", "ok")
                time.sleep(self.args.churn_seconds / 2)
                admin.unload(CHURN)
                self.count("unload", "ok")
            except CodecError as error:
                self.count("load/unload", error.code().name)
            finally:
                with self.lock:
                    self.churning = False
        admin.close()

    def quiesce(self, label):
        """Stops new streams and the churn, waits for the running ones (the
        second model unloaded), samples the idle server."""
        self.pause.set()
        while True:
            with self.lock:
                if self.busy == 0 and not self.churning:
                    break
            time.sleep(0.05)
        time.sleep(self.args.settle_seconds)
        row = self.sample(label)
        self.pause.clear()
        return row

    def run(self):
        os.makedirs(self.args.workdir, exist_ok=True)
        self.start_server()
        self.began = time.monotonic()
        self.cases = [Case(self.args.fixtures, m, f) for m, f in FIXTURES.items()]
        self.churn_case = Case(self.args.fixtures, CHURN, FIXTURES["encodec"])
        self.sample("start")
        threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(self.args.workers)]
        threads += [threading.Thread(target=self.churner), threading.Thread(target=self.sampler)]
        for thread in threads:
            thread.start()
        end = self.began + 60 * self.args.minutes
        warmup = self.args.warmup_seconds
        if warmup < 0:
            warmup = 12 * self.args.minutes  # A fifth of the run.
        time.sleep(max(0.0, min(warmup, end - time.monotonic())))
        self.idle.append(self.quiesce("steady start (idle)"))
        while time.monotonic() + 60 < end:
            time.sleep(60)
            self.idle.append(self.quiesce("idle"))
        time.sleep(max(0.0, end - time.monotonic()))
        self.idle.append(self.quiesce("steady end (idle)"))
        steady_start, steady_end = self.idle[0], self.idle[-1]
        self.stop.set()
        for thread in threads:
            thread.join()
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=60)
        return steady_start, steady_end

    def report(self, steady_start, steady_end):
        lines = [f"Soak: {self.args.minutes} min, {self.args.workers} workers, seed "
                 f"{self.args.seed}, --max_stream_memory_mb={self.args.stream_memory_mb} "
                 f"--cpu_block_cache_mb={self.args.cpu_block_cache_mb}", ""]
        lines += ["| stream kind | outcome | count |", "|---|---|---|"]
        for (kind, outcome), n in sorted(self.outcomes.items()):
            lines.append(f"| {kind} | {outcome} | {n} |")
        wrong = sum(n for (kind, outcome), n in self.outcomes.items() if outcome == "wrong")
        checked = sum(n for (kind, outcome), n in self.outcomes.items() if outcome in ("ok", "wrong")
                      and kind.startswith(("encode", "decode", "churn")))
        refused = sum(n for (_, outcome), n in self.outcomes.items()
                      if outcome == "RESOURCE_EXHAUSTED")
        lines += ["", f"Streams checked against the reference: {checked}; wrong: {wrong}; "
                  f"refused by the memory budget: {refused}.", ""]
        lines += ["| sample | seconds | RSS MiB | threads | open fds |", "|---|---|---|---|---|"]
        peak = max(self.samples, key=lambda row: row[1])
        for row in [self.samples[0], steady_start, peak, steady_end]:
            label = row[4] or "peak RSS under load"
            lines.append(f"| {label} | {row[0]:.0f} | {row[1] / 2**20:.1f} | {row[2]} | {row[3]} |")
        lines += ["", "The idle server through the steady state (RSS MiB, threads, fds): " + ", ".join(
            f"{row[0]:.0f} s: {row[1] / 2**20:.1f} / {row[2]} / {row[3]}" for row in self.idle)]
        # An idle server's RSS swings with what glibc keeps of freed heap (it
        # trims only at Unload), so each end of the steady state is the
        # floor of its third of the idle samples: memory that is never given
        # back, which a leak would raise.
        third = max(1, len(self.idle) // 3)
        first, last = self.idle[:third], self.idle[-third:]
        growth = {name: (min(r[i] for r in last) - min(r[i] for r in first)) / min(
            r[i] for r in first) for name, i in (("RSS", 1), ("threads", 2), ("fds", 3))}
        lines += ["", f"Growth of the idle floor, first third ({len(first)} samples) to last "
                  "third of the steady state: " + ", ".join(
                      f"{name} {100 * g:+.1f} %" for name, g in growth.items())]
        ok = wrong == 0 and all(g < 0.05 for g in growth.values())
        lines.append("Verdict: " + ("PASS" if ok else "FAIL") + " (no wrong stream, growth < 5 %)")
        return "\n".join(lines), ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="The codec_server binary.")
    parser.add_argument("--fixtures", required=True, help="tests/fixtures (its real path).")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--stream_memory_mb", type=int, default=32,
                        help="The server's stream budget: small enough to refuse some streams.")
    parser.add_argument("--churn_seconds", type=float, default=6)
    parser.add_argument("--sample_seconds", type=float, default=5)
    parser.add_argument("--warmup_seconds", type=float, default=-1,
                        help="Load before the steady state starts; default a fifth of the run.")
    parser.add_argument("--cpu_block_cache_mb", type=int, default=64,
                        help="The server's cache of freed tensor blocks (its default 2048 would "
                             "fill through the run and read as growth).")
    parser.add_argument("--settle_seconds", type=float, default=3)
    parser.add_argument("--workdir", default="/tmp/codec_soak")
    parser.add_argument("--report", default="", help="Also write the report here (markdown).")
    args = parser.parse_args()
    soak = Soak(args)
    text, ok = soak.report(*soak.run())
    print(text)
    if args.report:
        with open(args.report, "w") as out:
            out.write(text + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
