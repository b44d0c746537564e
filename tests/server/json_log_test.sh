#!/usr/bin/env bash
# --log_format=json: every line the real server writes is one JSON object
# with a time and a message, and each request's line carries its id, peer,
# rpc, model, sizes, durations and status, with what the client chose
# (a model id with a quote and a newline) kept intact and unable to split
# the line. --log_format=text stays the default; an unknown format stops
# the server at start.
set -euo pipefail

out="${TEST_TMPDIR:-$(mktemp -d)}"
source tests/testing/start_server.sh
if server/codec_server --listen=127.0.0.1:0 --log_format=yaml 2>"$out/bad.log"; then
  echo "an unknown --log_format started"
  exit 1
fi
grep -q "log format 'yaml' is neither text nor json" "$out/bad.log"

start_server --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6 \
  --log_format=json
client=client/codec_client
"$client" --server=127.0.0.1:$port encode --model=tiny --n_q=4 \
  --input=tests/fixtures/encodec24_tiny_bw6/input.wav --output="$out/codes.npz"
if "$client" --server=127.0.0.1:$port load --model=$'odd"\nid' --preset=snac \
  --weights=../outside 2>/dev/null; then
  echo "a Load of weights outside the repository succeeded"
  exit 1
fi
kill -TERM "$pid"
wait "$pid" || true

/usr/bin/python3 - "$log" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = [json.loads(line) for line in lines]  # Fails on any line that is not one object.
for event in events:
    assert isinstance(event, dict) and {"time", "message"} <= event.keys(), event
    assert event["time"].endswith("Z") and "T" in event["time"], event
messages = [event["message"] for event in events]
assert any(m.startswith("listening on port ") for m in messages), messages
assert "stopped" in messages, messages
requests = [event for event in events if event["message"] == "request"]
encode = next(event for event in requests if event["rpc"] == "Encode")
assert encode["model"] == "tiny" and encode["status"] == "OK" and encode["error"] == "", encode
assert encode["samples"] > 0 and encode["ms"] > 0 and encode["first_output_ms"] > 0, encode
assert isinstance(encode["request"], int) and encode["peer"].startswith("ipv4:127.0.0.1:"), encode
load = next(event for event in requests if event["rpc"] == "Load")
assert load["model"] == 'odd"\nid', load  # Kept whole, and the line was not split.
assert load["status"] == "INVALID_ARGUMENT" and "outside" in load["error"], load
assert load["details"]["weights"] == "../outside" and load["first_output_ms"] is None, load
print(f"{len(events)} JSON lines, {len(requests)} requests")
PY
