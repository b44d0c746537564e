#!/usr/bin/env bash
# The real codec_server's Prometheus endpoint: after real streams from
# codec_client (and a refused Load), its exposition passes promtool's check,
# counts what was driven, and a real Prometheus scrapes it and answers a
# query for the counter the test drove.
set -euo pipefail

out="${TEST_TMPDIR:-$(mktemp -d)}"
source tests/testing/start_server.sh
start_server --model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6 \
  --metrics_listen=127.0.0.1:0
metrics_port=$(sed -n 's/^codec_server: metrics on port \([0-9]*\)$/\1/p' "$log")
[ -n "$metrics_port" ] || { cat "$log"; exit 1; }

# A metrics address it cannot take stops the server at start, saying so.
if server/codec_server --listen=127.0.0.1:0 --metrics_listen="127.0.0.1:$port" 2>"$out/taken.log"
then
  echo "a server started with its metrics port taken"
  exit 1
fi
grep -q "cannot serve metrics on 127.0.0.1:$port" "$out/taken.log"

client=client/codec_client
input=tests/fixtures/encodec24_tiny_bw6/input.wav
"$client" --server=127.0.0.1:$port encode --model=tiny --n_q=4 --input="$input" \
  --output="$out/codes.npz"
"$client" --server=127.0.0.1:$port decode --model=tiny --input="$out/codes.npz" \
  --output="$out/decoded.wav"
"$client" --server=127.0.0.1:$port decode --model=tiny --input="$out/codes.npz" \
  --output="$out/decoded2.wav"
if "$client" --server=127.0.0.1:$port load --model=bad --preset=snac --weights=../outside 2>/dev/null
then
  echo "a Load of weights outside the repository succeeded"
  exit 1
fi

scrape() { /usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$@"; }
scrape "http://127.0.0.1:$metrics_port/metrics" >"$out/metrics.txt"
promtool check metrics <"$out/metrics.txt"
/usr/bin/python3 - "$metrics_port" <<'PY'
import sys, urllib.error, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for path, method, code in (("/other", "GET", 404), ("/metrics", "POST", 405)):
    try:
        urllib.request.urlopen(urllib.request.Request(base + path, method=method, data=b"" if
                                                      method == "POST" else None), timeout=10)
        raise AssertionError(f"{method} {path} answered 200")
    except urllib.error.HTTPError as error:
        assert error.code == code, (method, path, error.code)
head = urllib.request.urlopen(urllib.request.Request(base + "/metrics", method="HEAD"), timeout=10)
assert head.status == 200 and head.read() == b"", head.status
PY

PYTHONPATH=tests/testing /usr/bin/python3 - "$out/metrics.txt" "$input" <<'PY'
import re, sys
from wav_file import read_wav
text = open(sys.argv[1]).read()
def value(name, **labels):
    """The sample `name{labels}` (labels in any order); fails when absent."""
    for line in text.splitlines():
        match = re.fullmatch(r'(\w+)(?:\{(.*)\})? (\S+)', line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    raise AssertionError(f"no sample {name}{labels} in:\n{text}")
audio, rate = read_wav(sys.argv[2])
seconds = audio.shape[1] / rate
assert value("codec_requests_total", rpc="Encode", model="tiny", code="OK") == 1
assert value("codec_requests_total", rpc="Decode", model="tiny", code="OK") == 2
assert value("codec_requests_total", rpc="Load", model="bad", code="INVALID_ARGUMENT") == 1
assert value("codec_requests_in_flight", rpc="Decode") == 0
assert abs(value("codec_audio_seconds_total", rpc="Encode", model="tiny") - seconds) < 1e-6
decoded = value("codec_audio_seconds_total", rpc="Decode", model="tiny")
assert abs(decoded - 2 * seconds) < 1e-6, decoded
assert value("codec_time_to_first_output_seconds_count", rpc="Decode", model="tiny") == 2
assert value("codec_request_duration_seconds_count", rpc="Encode", model="tiny") == 1
steps = value("codec_batch_size_sum", model="tiny", device="cpu")
assert steps > 0 and value("codec_step_queue_wait_seconds_count", model="tiny", device="cpu") == steps
assert value("codec_model_state", model="tiny", state="READY") == 1
assert value("codec_model_memory_bytes", model="tiny", device="cpu") > 0
assert value("codec_build_info", api="codec.v1", libtorch=re.search(
    r'libtorch="([^"]*)"', text).group(1)) == 1
print(f"exposition checks pass: {steps:.0f} batched steps, {seconds:.2f} s encoded")
PY

# A real Prometheus scrapes the endpoint each second; its query API must
# then answer for the Decode counter driven above.
prometheus_port=$(free_port)
cat >"$out/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: codec_server
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YML
promtool check config "$out/prometheus.yml"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" 2>"$out/prometheus.log" &
server_pids="$server_pids $!"
query='codec_requests_total{job="codec_server",rpc="Decode",model="tiny",code="OK"}'
for _ in $(seq 1 120); do
  answer=$(scrape "http://127.0.0.1:$prometheus_port/api/v1/query?query=$(/usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")" 2>/dev/null || true)
  if echo "$answer" | grep -q '"value":\[[0-9.]*,"2"\]'; then
    echo "Prometheus answers $query: $answer"
    exit 0
  fi
  sleep 0.5
done
echo "Prometheus never answered $query with 2; last answer: ${answer:-none}"
tail -20 "$out/prometheus.log"
exit 1
