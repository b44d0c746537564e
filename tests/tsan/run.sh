#!/usr/bin/env bash
# ThreadSanitizer over the project's own concurrent code: the step executor
# and its slots, the registry, memory budget, idle watch, compute slots, the
# batching tests and the in-process server tests. Run it on every change to
# server/serving/, server/rpc/ or backends/streaming/stream_slots.*; its last
# report is in docs/CONCURRENCY.md.
#
#   bash tests/tsan/run.sh            # builds instrumented Abseil first (cached)
#   bash tests/tsan/run.sh //tests/server:step_executor_test   # some targets
#
# Its own output base keeps the default build's cache. One intra-op thread:
# libtorch's OpenMP (libgomp) is not instrumented, so TSan cannot see its
# barriers, and our code must not race with itself, not with libgomp.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash tests/tsan/build_abseil.sh

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(
    //tests/server:step_executor_test
    //tests/server:compute_slots_test
    //tests/server:memory_budget_test
    //tests/server:idle_watch_test
    //tests/server:model_registry_test
    //tests/server:device_pool_test
    //tests/server:batching_service_test
    //tests/server:streaming_service_test
    //tests/server:stream_limits_test
    //tests/backends:loaded_model_test
  )
  # Not by default: batching_service_test and batching_test stream many
  # decodes, tens of minutes under TSan on 2 cores; codec_server_test runs
  # Python's grpc, which cannot load the instrumented Abseil (static TLS).
fi

options="suppressions=$PWD/tests/tsan/suppressions.txt halt_on_error=1 second_deadlock_stack=1"
options+=" history_size=4 report_signal_unsafe=0"
bazel --output_base="$HOME/.cache/bazel_codec_tsan" test --config=tsan \
  --test_env=TSAN_OPTIONS="$options" --test_env=OMP_NUM_THREADS=1 \
  --test_tag_filters=-paced --test_output=errors "${targets[@]}"
