#!/usr/bin/env bash
# Scale-out behind a real gRPC load balancer: two codec_server replicas on
# loopback behind Debian's nginx (grpc_pass over HTTP/2, round robin).
# scale_out_test.py drives many streams through nginx, checks they spread
# over both replicas with every output equal to the reference, then sends
# SIGTERM to one replica while its streams run: they must finish whole, new
# streams must go to the other, and no stream may be lost.
set -euo pipefail

out="${TEST_TMPDIR:-$(mktemp -d)}"
source tests/testing/start_server.sh
models=(--model_repository="$(fixtures_repository)" --models=tiny=encodec:encodec24_tiny_bw6)
start_server "${models[@]}" --metrics_listen=127.0.0.1:0
a_pid=$pid a_port=$port a_log=$log
start_server "${models[@]}" --metrics_listen=127.0.0.1:0
b_pid=$pid b_port=$port b_log=$log
metrics_port() { sed -n 's/^codec_server: metrics on port \([0-9]*\)$/\1/p' "$1"; }

# Codes of a real recording, made through replica B.
client/codec_client --server=127.0.0.1:$b_port encode --model=tiny --bandwidth=6 \
  --input=tests/fixtures/audio/jfk.wav --output="$out/jfk.npz"

lb_port=$(free_port)
mkdir -p "$out/nginx"
cat >"$out/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log info;
$( [ "$(id -u)" = 0 ] && echo "user root root;" )
events { worker_connections 1024; }
http {
  access_log $out/nginx/access.log;
  client_body_temp_path $out/nginx/body;
  proxy_temp_path $out/nginx/proxy;
  fastcgi_temp_path $out/nginx/fastcgi;
  uwsgi_temp_path $out/nginx/uwsgi;
  scgi_temp_path $out/nginx/scgi;
  upstream codec_servers {
    server 127.0.0.1:$a_port;
    server 127.0.0.1:$b_port;
  }
  server {
    listen 127.0.0.1:$lb_port http2;
    # Streams are long and their bodies unbounded.
    client_max_body_size 0;
    client_body_timeout 300s;
    grpc_read_timeout 300s;
    grpc_send_timeout 300s;
    location / {
      # A replica that refuses the connection (draining, gone): the next one.
      grpc_next_upstream error timeout;
      grpc_pass grpc://codec_servers;
    }
  }
}
CONF
nginx -t -c "$out/nginx/nginx.conf" -p "$out/nginx" 2>&1 | tail -1
nginx -c "$out/nginx/nginx.conf" -p "$out/nginx" &
server_pids="$server_pids $!"
for _ in $(seq 1 100); do
  /usr/bin/python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
    "$lb_port" 2>/dev/null && break
  sleep 0.1
done

PYTHONPATH="client/python:proto" /usr/bin/python3 tests/deploy/scale_out_test.py \
  --lb_port="$lb_port" --reference_port="$b_port" --codes="$out/jfk.npz" \
  --a_pid="$a_pid" --a_port="$a_port" --a_metrics="$(metrics_port "$a_log")" --a_log="$a_log" \
  --b_metrics="$(metrics_port "$b_log")"
wait "$a_pid"  # The drained replica exits 0.
grep -q "codec_server: stopped" "$a_log"
