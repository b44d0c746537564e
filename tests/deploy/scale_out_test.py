"""Drives scale_out_test.sh's two replicas through nginx (see there)."""
import argparse
import os
import re
import signal
import socket
import threading
import time
import urllib.request

import numpy as np

from codec_client import CodecClient

parser = argparse.ArgumentParser()
for flag in ("lb_port", "reference_port", "a_pid", "a_port", "a_metrics", "b_metrics"):
    parser.add_argument(f"--{flag}", type=int, required=True)
parser.add_argument("--codes", required=True)
parser.add_argument("--a_log", required=True)
args = parser.parse_args()

codes = np.load(args.codes)["codes"]
levels = [codes.reshape(-1, codes.shape[-1])]
FRAME_RATE = 75  # EnCodec 24 kHz.
reference = CodecClient(f"127.0.0.1:{args.reference_port}").decode("tiny", levels, noise="off")


def decoded_ok_count(metrics_port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read()
    match = re.search(rb'^codec_requests_total\{code="OK",model="tiny",rpc="Decode"\} (\S+)$',
                      text, re.M)
    return int(float(match.group(1))) if match else 0


def in_flight(metrics_port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read()
    match = re.search(rb'^codec_requests_in_flight\{rpc="Decode"\} (\S+)$', text, re.M)
    return int(float(match.group(1))) if match else 0


class Stream(threading.Thread):
    """One decode stream through nginx, 4 frames per message, optionally
    paced at `speed` times real time; its audio must equal the reference."""

    def __init__(self, speed=None):
        super().__init__()
        self.speed, self.error, self.chunks_sent = speed, None, 0

    def chunks(self):
        for first in range(0, codes.shape[-1], 4):
            if self.speed:
                time.sleep(4 / FRAME_RATE / self.speed)
            self.chunks_sent += 1
            yield [levels[0][:, first:first + 4]]

    def run(self):
        try:
            client = CodecClient(f"127.0.0.1:{args.lb_port}")
            audio = np.concatenate(list(client.decode_stream("tiny", self.chunks(), noise="off")),
                                   axis=1)
            assert audio.shape == reference.shape, (audio.shape, reference.shape)
            error = np.abs(audio - reference).max()
            assert error <= 1e-4, f"audio differs by {error}"
        except Exception as error:  # Reported by the main thread.
            self.error = error


def run_all(streams):
    for stream in streams:
        stream.start()
    for stream in streams:
        stream.join()
    errors = [stream.error for stream in streams if stream.error]
    assert not errors, errors


# Spread: 16 streams at once go round robin over both replicas.
run_all([Stream() for _ in range(16)])
spread = decoded_ok_count(args.a_metrics), decoded_ok_count(args.b_metrics) - 1  # B's reference.
assert sum(spread) == 16 and min(spread) >= 4, spread
print(f"16 streams through nginx: {spread[0]} on replica A, {spread[1]} on B, all equal to the "
      "reference")

# Drain: paced streams run on both; A gets SIGTERM mid-stream; new streams
# start while it drains.
running = [Stream(speed=4) for _ in range(8)]
for stream in running:
    stream.start()
# Once all 8 are in flight, A's share of them is known.
deadline = time.time() + 10
while in_flight(args.a_metrics) + in_flight(args.b_metrics) < 8 and time.time() < deadline:
    time.sleep(0.01)
on_a = in_flight(args.a_metrics)
assert in_flight(args.b_metrics) + on_a == 8, "the 8 paced streams are not all running"
assert on_a > 0 and all(stream.is_alive() for stream in running), "no stream running on A"
os.kill(args.a_pid, signal.SIGTERM)
# Draining, A refuses new connections (its streams go on): nginx then
# passes new streams to B. A connection caught in the closing listener's
# backlog is reset rather than refused.
deadline = time.time() + 10
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", args.a_port), 1).close()
        time.sleep(0.01)
    except (ConnectionRefusedError, ConnectionResetError):
        break
else:
    raise AssertionError("replica A still takes connections 10 s after SIGTERM")
late = [Stream() for _ in range(8)]
run_all(late)
for stream in running:
    stream.join()
errors = [stream.error for stream in running if stream.error]
assert not errors, errors
b_total = decoded_ok_count(args.b_metrics) - 1
a_total = len(re.findall(r"rpc=Decode .* status=0 ", open(args.a_log).read()))
assert a_total == spread[0] + on_a, (a_total, spread[0], on_a)  # A took nothing new.
assert a_total + b_total == 32, (a_total, b_total)
print(f"SIGTERM to A with {on_a} of 8 paced streams on it: all 8 finished whole; the 8 streams "
      f"started while A drained all went to B; {a_total} streams on A, {b_total} on B, none lost")
