#!/usr/bin/env bash
# codec_tool end to end on the EnCodec fixtures: encode the reference input,
# decode the result, and compare both with the reference (numpy).
set -euo pipefail

tool=tool/codec_tool
fixtures=tests/fixtures
out="${TEST_TMPDIR:-$(mktemp -d)}"
python=/usr/bin/python3

compare() {  # case, codes.npz, decoded.npy
  "$python" - "$fixtures/$1/expected.npz" "$2" "$3" <<'PY'
import sys, numpy as np
expected, codes, decoded = np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3])
keys = sorted(k for k in expected.files if k.startswith("codes"))
assert keys and sorted(k for k in codes.files if k.startswith("codes")) == keys, codes.files
assert all(codes[k].shape == expected[k].shape and codes[k].dtype == np.int64 for k in keys)
same = np.concatenate([(codes[k] == expected[k]).ravel() for k in keys]).mean()
error = np.abs(decoded - expected["decoded"]).max() if decoded.shape == expected["decoded"].shape else np.inf
assert decoded.dtype == np.float32
# DAC 16/24 kHz decode a few samples short of the input, as upstream does.
assert 0 <= int(codes["num_samples"]) - expected["decoded"].shape[1] < 16
print(f"{sys.argv[1]}: codes identical {100 * same:.3f}%, decode max abs error {error:.3g}")
sys.exit(0 if same >= 0.999 and error <= 1e-4 else 1)
PY
}

for case in encodec24_tiny_bw6 encodec24_tiny_bw12 encodec48_tiny_stereo_bw6 snac24_tiny snac44_tiny_attn \
    dac16_tiny dac44_tiny dac44_tiny_nq4; do
  family=${case%%[0-9]*}
  meta() { "$python" -c "import json; print(json.load(open('$fixtures/$case/meta.json')).get('$1', ''))"; }
  bandwidth=$(meta bandwidth)
  n_q=$(meta n_q)
  [ -n "$bandwidth" ] && n_q=""
  "$tool" encode --threads=2 --model="$family" --weights="$fixtures/$case" \
    ${bandwidth:+--bandwidth=$bandwidth} ${n_q:+--n_q=$n_q} \
    --input="$fixtures/$case/input.wav" --output="$out/$case.npz"
  "$tool" decode --threads=2 --model="$family" --weights="$fixtures/$case" --noise=off \
    --input="$out/$case.npz" --output="$out/$case.npy"
  "$tool" decode --threads=2 --model="$family" --weights="$fixtures/$case" --noise=off \
    --input="$out/$case.npz" --output="$out/$case.wav"
  compare "$case" "$out/$case.npz" "$out/$case.npy"
done

# DAC as the Hugging Face hub holds it (descript/dac_*): a folder in
# transformers' layout, loaded with --model=dac alone, gives the same codes
# and decode as the upstream checkpoint.
tests/testing/write_dac_hf_folder "$fixtures/dac16_tiny/weights.pth" "$out/dac_16khz_hf"
"$tool" info --model=dac --weights="$out/dac_16khz_hf" | grep -q '"sample_rate": 16000'
"$tool" encode --threads=2 --model=dac --weights="$out/dac_16khz_hf" \
  --input="$fixtures/dac16_tiny/input.wav" --output="$out/dac16_hf.npz"
"$tool" decode --threads=2 --model=dac --weights="$out/dac_16khz_hf" \
  --input="$out/dac16_hf.npz" --output="$out/dac16_hf.npy"
compare dac16_tiny "$out/dac16_hf.npz" "$out/dac16_hf.npy"

# Seeded SNAC noise is reproducible, and differs from no noise.
for seed in 5 5 6; do
  "$tool" decode --model=snac --weights="$fixtures/snac24_tiny" --seed=$seed \
    --input="$out/snac24_tiny.npz" --output="$out/seed$seed.$RANDOM.npy"
done
"$python" - "$out" <<'PY'
import glob, sys, numpy as np
runs = {f: np.load(f) for f in glob.glob(sys.argv[1] + "/seed*.npy")}
five = [a for f, a in runs.items() if "/seed5." in f]
six = [a for f, a in runs.items() if "/seed6." in f][0]
off = np.load(sys.argv[1] + "/snac24_tiny.npy")
assert len(five) == 2 and np.array_equal(five[0], five[1]), "same seed, different noise"
assert not np.array_equal(five[0], six) and np.abs(five[0] - off).max() > 1e-4
PY

# A real recording at another rate and channel count is converted, and says so.
"$tool" encode --model=encodec --weights="$fixtures/encodec24_tiny_bw6" --n_q=4 \
  --input="$fixtures/audio/jfk.wav" --output="$out/jfk.npz" 2>"$out/stderr"
grep -q "resampled 16000 Hz -> 24000 Hz" "$out/stderr"

# Inputs longer than --chunk_seconds run as streams of such steps: fine steps
# on the fixtures hold the reference bars, and the recording (11 s) in 10 s
# steps holds them against its whole-input run (one step of 1000 s).
for case in encodec24_tiny_bw6 snac24_tiny dac16_tiny; do
  family=${case%%[0-9]*}
  bandwidth=$(meta bandwidth)
  n_q=$(meta n_q)
  [ -n "$bandwidth" ] && n_q=""
  "$tool" encode --model="$family" --weights="$fixtures/$case" --chunk_seconds=0.05 \
    ${bandwidth:+--bandwidth=$bandwidth} ${n_q:+--n_q=$n_q} \
    --input="$fixtures/$case/input.wav" --output="$out/$case.fine.npz"
  "$tool" decode --model="$family" --weights="$fixtures/$case" --noise=off --chunk_seconds=0.05 \
    --input="$out/$case.fine.npz" --output="$out/$case.fine.npy"
  compare "$case" "$out/$case.fine.npz" "$out/$case.fine.npy"
done
"$tool" encode --model=encodec --weights="$fixtures/encodec24_tiny_bw6" --n_q=4 --chunk_seconds=1000 \
  --input="$fixtures/audio/jfk.wav" --output="$out/jfk.whole.npz" 2>/dev/null
for steps in whole default; do
  "$tool" decode --model=encodec --weights="$fixtures/encodec24_tiny_bw6" \
    $([ $steps = whole ] && echo --chunk_seconds=1000) --input="$out/jfk.npz" \
    --output="$out/jfk.$steps.npy"
done
"$python" - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
steps, whole = np.load(f"{out}/jfk.npz"), np.load(f"{out}/jfk.whole.npz")
assert sorted(steps.files) == sorted(whole.files)
assert steps["codes"].shape == whole["codes"].shape
same = (steps["codes"] == whole["codes"]).mean()
error = np.abs(np.load(f"{out}/jfk.default.npy") - np.load(f"{out}/jfk.whole.npy")).max()
print(f"jfk in 10 s steps vs whole: codes identical {100 * same:.3f}%, decode max error {error:.3g}")
assert same >= 0.999 and error <= 1e-4 and steps["num_samples"] == whole["num_samples"]
PY

# On a terminal, a progress line (audio done, times real time, time left);
# none with --quiet.
for quiet in false true; do
  script -qec "$tool encode --model=encodec --weights=$fixtures/encodec24_tiny_bw6 --n_q=4 \
    --quiet=$quiet --input=$fixtures/audio/jfk.wav --output=$out/jfk.tty.npz" /dev/null \
    >"$out/tty.$quiet"
done
grep -q "encode: 11.0 of 11.0 s of audio, .*x real time" "$out/tty.false"
! grep -q "real time" "$out/tty.true"

# info needs no weights.
"$tool" info --model=encodec_48khz | grep -q '"sample_rate": 48000'
"$tool" info --model=snac_32khz | grep -q '"hop_length": 384'
"$tool" info --model=dac_24khz | "$python" -c "import json, sys; assert json.load(sys.stdin)['codebooks_per_level'] == [32]"
# A DAC checkpoint's own kwargs override the preset's.
"$tool" info --model=dac_44khz --weights="$fixtures/dac16_tiny/weights.pth" | grep -q '"sample_rate": 16000'

# Errors: a clear message and a non-zero exit.
expect_failure() {  # expected-text, command...
  local text=$1
  shift
  if "$@" 2>"$out/err"; then echo "expected failure: $*"; exit 1; fi
  grep -q -e "$text" "$out/err" || { echo "missing '$text' in:"; cat "$out/err"; exit 1; }
}
expect_failure "is not supported" "$tool" encode --model=encodec --weights="$fixtures/encodec24_tiny_bw6" \
  --bandwidth=24 --input="$fixtures/encodec24_tiny_bw6/input.wav" --output="$out/x.npz"
expect_failure "no such file" "$tool" encode --model=encodec --weights="$fixtures/encodec24_tiny_bw6" \
  --input="$out/none.wav" --output="$out/x.npz"
expect_failure "unknown model" "$tool" info --model=nonesuch
expect_failure "--noise must be on or off" "$tool" decode --model=snac --weights="$fixtures/snac24_tiny" \
  --noise=maybe --input="$out/snac24_tiny.npz" --output="$out/x.wav"
"$python" -c "
import numpy as np
codes = dict(np.load('$out/snac44_tiny_attn.npz'))
codes['codes_1'] = codes['codes_1'][:-1]
np.savez('$out/ragged.npz', **codes)"
expect_failure "levels must cover the same frames" "$tool" decode --model=snac --weights="$fixtures/snac44_tiny_attn" \
  --input="$out/ragged.npz" --output="$out/x.wav"
expect_failure "out of range" "$tool" encode --model=dac --weights="$fixtures/dac16_tiny" --n_q=13 \
  --input="$fixtures/dac16_tiny/input.wav" --output="$out/x.npz"
expect_failure "unknown command" "$tool" transmogrify --model=encodec_24khz
expect_failure "made at 24000 Hz" "$tool" decode --model=encodec --weights="$fixtures/encodec48_tiny_stereo_bw6" \
  --input="$out/encodec24_tiny_bw6.npz" --output="$out/x.wav"
echo "codec_tool: all checks passed"
