#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; --config=fuzz, in its own
# Bazel output base) and runs each for SECONDS on a corpus seeded from the
# fixtures, then prints a table of runs per target. A crash, leak, timeout
# or sanitizer report fails the script and leaves the input under WORKDIR.
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]   (default 60 s, every target)
#
# .ci/run runs it briefly; for a long run give SECONDS=600 and run two
# target lists at once on two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pickle zip torch_checkpoint safetensors npz wav token_chunk pcm)
bazel_fuzz=(bazel --output_base="${FUZZ_OUTPUT_BASE:-$HOME/.cache/bazel_codec_fuzz}")
labels=()
for target in "${targets[@]}"; do labels+=("//tests/fuzz:${target}_fuzz"); done
"${bazel_fuzz[@]}" build --config=fuzz "${labels[@]}"
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz"
work="${FUZZ_WORKDIR:-$(mktemp -d)}"
fixtures=tests/fixtures
checkpoints=("$fixtures"/encodec24_tiny_bw6/weights.th "$fixtures"/dac16_tiny/weights.pth
             "$fixtures"/snac24_tiny/pytorch_model.bin)

seeds() {  # The seed files of a target.
  case "$1" in
    pickle | safetensors | token_chunk | pcm) echo tests/fuzz/seeds/"$1"/* ;;
    zip) echo "${checkpoints[@]}" "$fixtures"/io/*.npz "$fixtures"/encodec24_tiny_bw6/expected.npz ;;
    torch_checkpoint) echo "${checkpoints[@]}" ;;
    npz) echo tests/fuzz/seeds/npy/* "$fixtures"/io/*.npz ;;
    wav) echo "$fixtures"/*/input.wav ;;
  esac
}

echo "| target | runs | seconds | corpus files | result |"
echo "|---|---|---|---|---|"
failed=0
for target in "${targets[@]}"; do
  corpus="$work/$target/corpus"
  mkdir -p "$corpus" "$work/$target/artifacts"
  for seed in $(seeds "$target"); do cp "$seed" "$corpus/${seed//\//_}"; done
  result=clean
  if ! "$bin/${target}_fuzz" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$work/$target/artifacts/" "$corpus" \
      >"$work/$target/log" 2>&1; then
    result="FAILED: $(ls "$work/$target/artifacts" | head -n 1)"
    failed=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target/log")
  echo "| $target | ${runs:-?} | $seconds | $(ls "$corpus" | wc -l) | $result |"
done
if [ "$failed" = 1 ]; then
  echo "fuzzing found failures; logs and inputs under $work" >&2
  grep -h -A30 "ERROR: \|runtime error" "$work"/*/log | head -n 80 >&2
  exit 1
fi
