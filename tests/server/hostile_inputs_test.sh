#!/usr/bin/env bash
# Hostile inputs against the real codec_server binary on loopback: each gets
# a precise status at once, and the server keeps serving correctly after it.
# Prints the table of input, status and time to answer.
set -euo pipefail
source tests/testing/start_server.sh
fixtures="$(fixtures_repository)"
repo="$TEST_TMPDIR/repository"
outside="$TEST_TMPDIR/outside"
mkdir -p "$repo" "$outside"
for model in encodec24_tiny_bw6 encodec48_tiny_stereo_bw6; do
  cp -r "$fixtures/$model" "$repo/$model"
done
cp -r "$fixtures/encodec24_tiny_bw6" "$outside/model"
ln -s "$outside/model" "$repo/escape"
mkfifo "$repo/fifo.th"
/usr/bin/python3 - "$repo" <<'PY'
import sys, zipfile
repo = sys.argv[1]
# A torch.save zip whose pickle nests lists 200,000 deep.
deep = 200000
with zipfile.ZipFile(f"{repo}/deep.th", "w", zipfile.ZIP_STORED) as z:
    z.writestr("deep/data.pkl", b"\x80\x02" + b"]" * deep + b"a" * (deep - 1) + b".")
# A zip whose 256 MiB of zeros deflate to a few hundred KiB.
with zipfile.ZipFile(f"{repo}/bomb.th", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("bomb/data.pkl", bytes(256 << 20))
# Hugging Face DAC folders whose config.json describes a network far beyond
# any DAC's, and one within bounds but larger than memory (a 137 GB
# transposed conv); the model is built before the weights are matched.
import json, os, struct
header = json.dumps({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
for name, config in [("dac_absurd", {"encoder_hidden_size": 2000000000}),
                     ("dac_huge", {"encoder_hidden_size": 8, "hidden_size": 8,
                                   "decoder_hidden_size": 65536})]:
    os.makedirs(f"{repo}/{name}")
    with open(f"{repo}/{name}/model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + bytes(4))
    with open(f"{repo}/{name}/config.json", "w") as f:
        json.dump({"model_type": "dac", **config}, f)
PY
start_server --model_repository="$repo" \
  --models=tiny=encodec:encodec24_tiny_bw6,stereo=encodec:encodec48_tiny_stereo_bw6
PYTHONPATH="client/python:proto" /usr/bin/python3 tests/server/hostile_inputs_test.py "$port"
kill -0 "$pid"  # Still up.
