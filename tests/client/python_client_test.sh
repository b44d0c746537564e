#!/usr/bin/env bash
# Runs the Python client's test (Debian's python3-grpcio and the generated
# stubs) against the real codec_server binary on loopback.
set -euo pipefail
source tests/testing/start_server.sh
start_server --model_repository="$(fixtures_repository)" \
  --models=encodec24_tiny_bw6=encodec:encodec24_tiny_bw6,snac24_tiny=snac:snac24_tiny
PYTHONPATH="client/python:proto:tests/testing" /usr/bin/python3 tests/client/python_client_test.py "$port"

# --max_rpc_threads bounds the streams served at once; the rest are told
# RESOURCE_EXHAUSTED rather than queued without limit.
start_server --model_repository="$(fixtures_repository)" --models=m=encodec:encodec24_tiny_bw6 \
  --max_rpc_threads=3
PYTHONPATH="client/python:proto" /usr/bin/python3 - "$port" <<'PY'
import sys, threading
import grpc, numpy as np
from codec_client import CodecClient
client = CodecClient(f"127.0.0.1:{sys.argv[1]}")
minute = np.random.default_rng(0).standard_normal((1, 24000 * 60)).astype(np.float32) * 0.1
outcomes = []
def encode():
    try:
        client.encode("m", minute, 24000)
        outcomes.append("OK")
    except grpc.RpcError as error:
        outcomes.append(error.code().name)
threads = [threading.Thread(target=encode) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
assert "OK" in outcomes and "RESOURCE_EXHAUSTED" in outcomes, outcomes
assert set(outcomes) == {"OK", "RESOURCE_EXHAUSTED"}, outcomes
print("8 streams at --max_rpc_threads=3:", sorted(outcomes))
PY
