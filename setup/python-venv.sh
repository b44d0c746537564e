#!/usr/bin/env bash
# Makes (once) the pinned Python virtual environment named by a requirements
# file of setup/venvs/ and prints its folder. Every Python tool the project
# takes from PyPI (the torch 2.11 libtorch of the CUDA build, the upstream
# references, the reflection client, the Kubernetes validator) comes through
# here, so each is one fixed environment, reused across runs and clones.
#
#   venv="$(setup/python-venv.sh torch)"   # setup/venvs/torch.txt
#   "$venv/bin/python" ...
#
# The environment lives in $CODEC_VENV_ROOT (default ~/.cache/codec-venvs)
# under the file's name; it is rebuilt when the file changes (its checksum is
# kept beside it), and built from Debian's python3 (setup/debian-packages.txt
# has python3-venv). pip's own output goes to stderr.
#
# An optional setup/venvs/NAME.nodeps.txt is installed after it with
# --no-deps: for a package whose every release pins what NAME.txt cannot
# take (moshi's torch<2.10); NAME.txt then lists what that package needs.
set -euo pipefail
name="${1:?usage: python-venv.sh NAME (setup/venvs/NAME.txt)}"
requirements="$(cd "$(dirname "$0")" && pwd)/venvs/$name.txt"
[ -f "$requirements" ] || { echo "python-venv: no $requirements" >&2; exit 2; }
root="${CODEC_VENV_ROOT:-$HOME/.cache/codec-venvs}"
venv="$root/$name"
nodeps="${requirements%.txt}.nodeps.txt"
files=("$requirements")
[ -f "$nodeps" ] && files+=("$nodeps")
# Of both files' text: one file's is its own sha256sum, as before.
want="$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  echo "python-venv: making $venv from $requirements" >&2
  start=$SECONDS
  rm -rf "$venv"
  mkdir -p "$root"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -r "$requirements" >&2
  if [ -f "$nodeps" ]; then
    "$venv/bin/python" -m pip install --quiet --no-deps -r "$nodeps" >&2
  fi
  echo "$want" >"$venv/.requirements.sha256"
  echo "python-venv: $name ready in $((SECONDS - start)) s" >&2
fi
echo "$venv"
