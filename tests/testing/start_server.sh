# Sourced by shell tests: start_server ARGS... runs server/codec_server (or
# $CODEC_SERVER) on a free loopback port with $CODEC_SERVER_FLAGS (what a
# harness such as tests/tsan/run.sh adds to every test's server) and ARGS,
# waits until it listens, and sets $pid, $port and $log (its stderr). Every
# server started is killed when the test exits. free_port prints a free
# loopback port.

# tests/fixtures as a model repository: the folder its runfiles link to (the
# server refuses weights whose real path is outside its repository).
fixtures_repository() {
  local first real
  first="$(find tests/fixtures -mindepth 2 -maxdepth 2 | head -n 1)"
  real="$(realpath "$first")"
  echo "${real%/"${first#tests/fixtures/}"}"
}

# A TCP port free on loopback now, for a helper (nginx, Prometheus) that
# cannot pick its own.
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
  log="$(mktemp -p "${TEST_TMPDIR:-/tmp}" server.XXXXXX.log)"
  # shellcheck disable=SC2086 # The harness's flags, word by word.
  "${CODEC_SERVER:-server/codec_server}" --listen=127.0.0.1:0 ${CODEC_SERVER_FLAGS:-} "$@" \
    2>"$log" &
  pid=$!
  server_pids="${server_pids:-} $pid"
  trap 'kill $server_pids 2>/dev/null || true' EXIT
  port=""
  for _ in $(seq 1 200); do
    # The text line, or the JSON one (--log_format=json).
    port=$(sed -n 's/^\(codec_server: \|.*"message":"\)listening on port \([0-9]*\).*/\2/p' "$log")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.1
  done
  echo "server did not start"
  cat "$log"
  return 1
}
