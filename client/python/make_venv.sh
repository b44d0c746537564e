#!/usr/bin/env bash
# Builds the codec-client wheel offline from client/python (its codec.v1
# stubs generated from proto/ at build time) and installs it into a fresh
# virtual environment over Debian's python3-grpcio, numpy and protobuf, as a
# user would: WORKDIR/dist holds the wheel, WORKDIR/venv the environment.
# Run from the repository root (or a runfiles tree laid out like it).
#
#   bash client/python/make_venv.sh WORKDIR && WORKDIR/venv/bin/python ...
set -euo pipefail
work="$1"
cp -rL client/python "$work/src"
CODEC_PROTO_DIR="$PWD/proto" HOME="$work" PIP_NO_CACHE_DIR=1 /usr/bin/python3 -m pip wheel \
  --quiet --no-build-isolation --no-deps --no-index -w "$work/dist" "$work/src"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
HOME="$work" PIP_NO_CACHE_DIR=1 "$work/venv/bin/pip" install --quiet --no-deps --no-index \
  "$work"/dist/codec_client-*.whl
