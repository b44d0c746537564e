#!/usr/bin/env bash
# The benchmarks run from a clean build and print complete tables: one
# full-size preset for 1 s of audio (model and streaming benchmarks), and the
# service on the tiny EnCodec for 1 s per client count. Speed is never checked here (see docs/BENCHMARKS.md).
set -euo pipefail

out="${TEST_TMPDIR:-$(mktemp -d)}"
number='[0-9]+(\.[0-9]+)?'

# bf16 rows where the CPU has AVX-512 BF16 (elsewhere --precision=bf16 is
# refused, and that row would fail the run).
precisions=fp32
grep -qw avx512_bf16 /proc/cpuinfo && precisions=fp32,bf16
bench/model_bench --presets=encodec_24khz --threads=1 --runs=1 --seconds=1 \
  --precisions="$precisions" --workdir="$out/model" >"$out/model.md"
cat "$out/model.md"
for op in encode decode; do
  for precision in ${precisions//,/ }; do
    # wall s, x real time, GFLOP per audio s, GFLOP/s, % of peak, RSS; no reference.
    grep -Eq "^\| encodec_24khz \| $op \| 1 \| $precision \| $number \| $number \| $number \| $number \| [0-9]+% \| [0-9]+ \| n/a \| n/a \| n/a \|$" \
      "$out/model.md" || { echo "no $op $precision row"; exit 1; }
  done
done

# A reference that cannot run (here: no such Python) fails the run, loudly.
if bench/model_bench --presets=encodec_24khz --threads=1 --runs=1 --seconds=1 --precisions=fp32 \
    --workdir="$out/model" --reference --reference_python="$out/missing" >"$out/ref.md" 2>"$out/ref.err"; then
  echo "model_bench passed with a missing reference"; exit 1
fi
grep -q "model_bench: reference:" "$out/ref.err"

# On a clean workdir the reference runs after our encode row wrote the audio
# it times, and is told that row's length (1 s at 24 kHz): a stand-in Python
# checks both and reports 0.5 s (the reference that read input.npy first
# found none here).
cat >"$out/fake_python" <<'FAKE'
#!/usr/bin/env bash
for arg; do
  case "$arg" in --audio=*) audio="${arg#*=}" ;; --expect_samples=*) samples="${arg#*=}" ;; esac
done
[ -s "$audio" ] && [ "$samples" = 24000 ] && echo "0.5 100"
FAKE
chmod +x "$out/fake_python"
bench/model_bench --presets=encodec_24khz --threads=1 --runs=1 --seconds=1 --precisions=fp32 \
  --workdir="$out/clean" --reference --reference_python="$out/fake_python" >"$out/fake.md"
for op in encode decode; do
  grep -Eq "^\| encodec_24khz \| $op \| 1 \| fp32 \| .* \| 0\.50 \| $number \| 100 \|$" "$out/fake.md" ||
    { echo "no $op row timed against the reference of its own input"; exit 1; }
done

source tests/testing/start_server.sh  # For fixtures_repository.
bench/service_bench --model=encodec --model_repository="$(fixtures_repository)" --weights=encodec24_tiny_bw6 \
  --clients=1,4 --duration_seconds=1 --workdir="$out/service" >"$out/service.md"
cat "$out/service.md"
for path in gRPC in-process; do
  for clients in 1 4; do
    # requests > 0, no errors, then rates and latencies.
    grep -Eq "^\| $path \| $clients \| [1-9][0-9]* \| 0 \| $number \| $number \| $number \| $number \| $number \|$" \
      "$out/service.md" || { echo "no clean $path row for $clients clients"; exit 1; }
  done
done
grep -Eq "^\| 4 \| $number \| -?$number \| $number \|$" "$out/service.md"
# Streamed in one-frame messages, as a microphone's audio arrives.
bench/service_bench --model=encodec --model_repository="$(fixtures_repository)" --weights=encodec24_tiny_bw6 \
  --message_frames=1 --clients=1 --duration_seconds=1 --workdir="$out/service1" >"$out/service1.md"
grep -q "1-frame messages" "$out/service1.md"
grep -Eq "^\| gRPC \| 1 \| [1-9][0-9]* \| 0 \| $number \| $number \| $number \| $number \| $number \|$" \
  "$out/service1.md" || { echo "no clean one-frame gRPC row"; exit 1; }

# encodec_48khz: a segmented model, whose paced decode must send the encoded length.
bench/stream_bench --presets=encodec_24khz,encodec_48khz --seconds=1 --chunk_frames=1,25 --paced_seconds=0.5 \
  --workdir="$out/stream" >"$out/stream.md"
cat "$out/stream.md"
for direction in encode decode; do
  for chunk in '1 \(13 ms\)' '25 \(333 ms\)'; do
    grep -Eq "^\| encodec_24khz \| $direction \| $number \| $chunk \| $number \| $number \| $number \| $number \| $number \|$" \
      "$out/stream.md" || { echo "no stream $direction row for $chunk"; exit 1; }
  done
done
for preset in encodec_24khz encodec_48khz; do
  grep -Eq "^\| $preset \| paced gRPC, 4-frame messages \| time to first codes $number ms \| time to first audio $number ms \|$" \
    "$out/stream.md" || { echo "no paced row for $preset"; exit 1; }
done

# The operation count of a batched step, on the operations a GPU runs: one
# download per step, no value read back by our code.
bench/batch_bench --count_ops --host_kernels=device --scenarios=encodec_24khz:encode:1 \
  --streams=1,2 --count_warmup_steps=2 --seconds=1 --workdir="$out/batch" >"$out/batch.md"
cat "$out/batch.md"
for streams in 1 2; do
  # operations, per stream, with nested, our value reads 0, libtorch's, device-to-host
  # copies 0, downloads 1.
  grep -Eq "^\| encodec_24khz \| encode \| 1 \| $streams \| [1-9][0-9]* \| $number \| [1-9][0-9]* \| 0 \| [0-9]+ \| 0 \| 1 \|$" \
    "$out/batch.md" || { echo "no count row for $streams streams"; exit 1; }
done
grep -q "operations that grow from 1 to 2 streams" "$out/batch.md"
