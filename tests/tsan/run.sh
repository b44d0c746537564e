#!/usr/bin/env bash
# ThreadSanitizer over the project's own concurrent code: the step executor
# and its slots, the registry, memory budget, idle watch, compute slots, the
# batching tests and the in-process server tests. Run it on every change to
# server/serving/, server/rpc/ or backends/streaming/stream_slots.*; its last
# report is in docs/CONCURRENCY.md.
#
#   bash tests/tsan/run.sh            # builds instrumented Abseil first (cached)
#   bash tests/tsan/run.sh //tests/server:step_executor_test   # some targets
#   bash tests/tsan/run.sh --nocache_test_results               # rerun all
#
# Its own output base keeps the default build's cache. The paced tests are
# left out: the sanitizer slows them past their pacing.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash tests/tsan/build_abseil.sh

# Arguments: targets, and flags for bazel test (those starting with -).
targets=()
flags=()
for argument in "$@"; do
  if [[ $argument == -* ]]; then flags+=("$argument"); else targets+=("$argument"); fi
done
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(
    //tests/server:step_executor_test
    //tests/server:compute_slots_test
    //tests/server:memory_budget_test
    //tests/server:idle_watch_test
    //tests/server:model_registry_test
    //tests/server:device_pool_test
    //tests/server:batching_service_test
    //tests/server:stream_limits_test
    //tests/server:codec_service_test
    //tests/server:model_lifecycle_test
    //tests/backends:loaded_model_test
    //tests/backends:batching_test
    # The real binary under TSan, driven by clients over loopback.
    //tests/server:codec_server_test
    //tests/server:hostile_inputs_test
    //tests/server:metrics_test
    //tests/server:security_test
  )
  # Not python_client_test: it holds the server's codes to the reference's,
  # which one intra-op thread (below) does not reproduce bit for bit.
fi

# Every instrumented process (test binaries, each test's codec_server, the
# C++ client) writes its reports here, so a report counts even where a test
# ignores how a server it started ended.
reports="$HOME/.cache/codec-tsan-reports/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$reports"
options="suppressions=$PWD/tests/tsan/suppressions.txt halt_on_error=1 second_deadlock_stack=1"
# A hostile checkpoint asks for more memory than the machine has: the
# server must see the failed allocation (as glibc reports it), not TSan's
# allocator stop the process.
options+=" history_size=4 report_signal_unsafe=0 allocator_may_return_null=1"
options+=" log_path=$reports/report"
status=0
# One intra-op thread everywhere: libgomp, which runs libtorch's and
# oneDNN's parallel regions, is not instrumented, and TSan cannot see its
# barriers (tests/testing/fixture.cc does the same for the fixture tests).
# No convenience symlinks: bazel-* would point at this output base, and the
# default build's //... would then wander into it.
bazel --output_base="$HOME/.cache/bazel_codec_tsan" test --config=tsan --symlink_prefix=/ \
  --test_env=TSAN_OPTIONS="$options" --test_env=OMP_NUM_THREADS=1 \
  --test_env=CODEC_SERVER_FLAGS=--threads=1 --sandbox_writable_path="$reports" \
  --test_timeout=3600 --test_tag_filters=-paced --test_output=errors --keep_going \
  "${flags[@]}" "${targets[@]}" || status=$?

if compgen -G "$reports/report.*" >/dev/null; then
  echo "ThreadSanitizer reported (all in $reports):"
  grep -h -A30 "WARNING: ThreadSanitizer" "$reports"/report.* | head -200
  exit 1
fi
echo "ThreadSanitizer: no report from any process ($reports is empty)."
exit "$status"
