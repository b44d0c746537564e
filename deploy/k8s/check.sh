#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests (no cluster needed): renders
# each overlay with kubectl's kustomize, validates every object against the
# Kubernetes schemas (kubernetes-models' validate()) and against their
# TypeScript types (tsc --strict: unknown or misspelled fields), then runs
# the project's cross-field checks (check/cross_check.py) against the image
# the overlay deploys. Also checks that the CPU and GPU Dockerfiles keep the
# same runtime contract, and that each check fails on a broken manifest.
#   deploy/k8s/check.sh     (kubectl, node and npm; the npm registry once)
set -euo pipefail
cd "$(dirname "$0")"
command -v kubectl >/dev/null || { echo "kubectl is needed (kubectl kustomize)"; exit 1; }
npm ci --prefix check --no-audit --no-fund --ignore-scripts --loglevel=error
work="$(mktemp -d -p check .rendered.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The runtime contract both images share.
contract() { grep -E '^(USER|VOLUME|EXPOSE|HEALTHCHECK|  CMD|STOPSIGNAL|ENTRYPOINT) ' "$1"; }
diff <(contract ../../Dockerfile) <(contract ../Dockerfile.cuda) ||
  { echo "Dockerfile and deploy/Dockerfile.cuda differ in their runtime contract"; exit 1; }

# check_overlay RENDERED.yaml DOCKERFILE OUT_DIR
check_overlay() {
  /usr/bin/python3 check/render.py "$1" "$3"
  (cd check && node validate.mjs "../$3/docs.json")
  check/node_modules/.bin/tsc --noEmit --strict --skipLibCheck --module nodenext \
    --moduleResolution nodenext "$3"/object*.ts
  /usr/bin/python3 check/cross_check.py "$1" "$2"
}

for overlay in cpu gpu; do
  dockerfile=../../Dockerfile
  [ "$overlay" = gpu ] && dockerfile=../Dockerfile.cuda
  kubectl kustomize "overlays/$overlay" >"$work/$overlay.yaml"
  echo "== overlay $overlay: $(grep -c '^kind:' "$work/$overlay.yaml") objects"
  check_overlay "$work/$overlay.yaml" "$dockerfile" "$work/$overlay"
done

# Each kind of check must catch what it is for.
expect_failure() {
  local what="$1" script="$2"
  sed -E "$script" "$work/cpu.yaml" >"$work/broken.yaml"
  cmp -s "$work/cpu.yaml" "$work/broken.yaml" && { echo "self-test '$what' changed nothing"; exit 1; }
  if check_overlay "$work/broken.yaml" ../../Dockerfile "$work/broken" >"$work/broken.log" 2>&1; then
    echo "the checks missed: $what"
    exit 1
  fi
  rm -rf "$work/broken"
  echo "caught: $what"
}
expect_failure "a misspelled field" 's/^      containers:$/      contianers:/'
expect_failure "a wrong type" 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: soon/'
expect_failure "a probe on a port not served" 's/^            port: 50051$/            port: 50052/'
expect_failure "a grace period shorter than the drain" 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 20/'
expect_failure "a Service selecting no pod" 's/^    app.kubernetes.io\/component: server$/    app.kubernetes.io\/component: other/'
echo "k8s manifests pass"
