#!/usr/bin/env bash
# The Python package as a user gets it: the wheel built offline from
# client/python (its codec.v1 stubs generated from the proto at build time),
# installed into a fresh virtual environment over Debian's python3-grpcio,
# numpy and protobuf, then its sync and asyncio clients against the real
# codec_server binary on loopback. Nothing of the source tree is importable
# by the tests but tests/testing's helpers.
set -euo pipefail
source tests/testing/start_server.sh
work="$(mktemp -d -p "${TEST_TMPDIR:-/tmp}" python_package.XXXXXX)"
bash client/python/make_venv.sh "$work"
python="$work/venv/bin/python"
"$python" -c 'import codec_client, os; assert "/venv/" in codec_client.__file__, codec_client.__file__'

start_server --model_repository="$(fixtures_repository)" \
  --models=encodec24_tiny_bw6=encodec:encodec24_tiny_bw6,snac24_tiny=snac:snac24_tiny
PYTHONPATH="tests/testing" "$python" tests/client/python_client_test.py "$port"
PYTHONPATH="tests/testing" "$python" tests/client/python_asyncio_test.py "$port"
# The TTS load tool the package ships: two short streams give one table row
# whose every stream got audio.
for lookahead in "" --lookahead_frames=0; do
  "$python" -m codec_client.loadgen --server="127.0.0.1:$port" --model=snac24_tiny --streams=2 \
    --seconds=0.5 --lm_speed=50 $lookahead | tee "$work/loadgen.txt"
  grep -Eq '^\| snac24_tiny \| (exact|0 of [0-9]+) \| 2 \| [0-9]+ / [0-9]+ \|.* \| [0-9.]+ \|$' \
    "$work/loadgen.txt"
done

# --max_rpc_threads bounds the streams served at once; the rest are told
# RESOURCE_EXHAUSTED rather than queued without limit.
start_server --model_repository="$(fixtures_repository)" --models=m=encodec:encodec24_tiny_bw6 \
  --max_rpc_threads=3
"$python" - "$port" <<'PY'
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
