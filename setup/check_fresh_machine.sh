#!/usr/bin/env bash
# The README's first command on a fresh Debian 12: a clean clone of HEAD in a
# container made from nothing but debootstrap's minimal bookworm (no build
# packages, no Bazel cache) runs ./quickstart.sh --exit_after_roundtrip, which
# must install the packages, build, serve the example model and round-trip a
# recording. Prints the transcript's end and the time it took. Not in CI (the
# clean build alone takes most of half an hour on 2 cores); CI's own fresh
# machine runs the second command, through the same package list.
#
#   setup/check_fresh_machine.sh     (root; installs podman, runc, debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
made_base=""
cleanup() {
  [ -z "$made_base" ] || podman rmi -f debian:bookworm >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
command -v podman >/dev/null && command -v debootstrap >/dev/null || {
  apt-get update && apt-get install -y podman buildah runc fuse-overlayfs slirp4netns uidmap \
    debootstrap git
}
source deploy/podman_env.sh
podman_config "$work"
bookworm_image "$work"
git clone --quiet . "$work/clone"
start=$(date +%s)
status=0
podman run --rm --network=host -v "$work/clone:/src" -w /src debian:bookworm \
  ./quickstart.sh --exit_after_roundtrip >"$work/transcript.txt" 2>&1 || status=$?
echo "check_fresh_machine: quickstart.sh exited $status after $(( $(date +%s) - start )) s;" \
  "what it and apt said:"
grep -E '^(install-packages|quickstart|codec_client|duration|[0-9]+ upgraded)' "$work/transcript.txt"
exit "$status"
