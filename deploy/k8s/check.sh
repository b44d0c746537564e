#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests (no cluster needed): renders
# each overlay with kubectl's kustomize, validates every object against the
# Kubernetes schemas of one Kubernetes version (check/validate.py, with
# kubernetes-validate in strict mode: types, required fields, known kinds,
# no unknown or misspelled field; and enum values, integer ranges and
# quantities), then runs the project's cross-field checks
# (check/cross_check.py) against the image the overlay deploys. Also checks
# that the CPU and GPU Dockerfiles keep the same runtime contract, and that
# each check fails on a broken manifest.
#   deploy/k8s/check.sh     (kubectl; PyPI once, for setup/venvs/k8s.txt)
set -euo pipefail
cd "$(dirname "$0")"
command -v kubectl >/dev/null || { echo "kubectl is needed (kubectl kustomize)"; exit 1; }
venv="$(../../setup/python-venv.sh k8s)"
# The oldest Kubernetes the manifests must apply to (the kubectl here is
# 1.32): a field that Kubernetes lacks fails, as a misspelled one does.
kubernetes_version=1.32.0
work="$(mktemp -d -p check .rendered.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The runtime contract both images share.
contract() { grep -E '^(USER|VOLUME|EXPOSE|HEALTHCHECK|  CMD|STOPSIGNAL|ENTRYPOINT) ' "$1"; }
diff <(contract ../../Dockerfile) <(contract ../Dockerfile.cuda) ||
  { echo "Dockerfile and deploy/Dockerfile.cuda differ in their runtime contract"; exit 1; }

# check_overlay RENDERED.yaml DOCKERFILE: the schemas, then (on objects
# that pass them) the cross-field checks.
check_overlay() {
  "$venv/bin/python" check/validate.py "$1" "$kubernetes_version" &&
    "$venv/bin/python" check/cross_check.py "$1" "$2"
}

for overlay in cpu gpu; do
  dockerfile=../../Dockerfile
  [ "$overlay" = gpu ] && dockerfile=../Dockerfile.cuda
  kubectl kustomize "overlays/$overlay" >"$work/$overlay.yaml"
  echo "== overlay $overlay: $(grep -c '^kind:' "$work/$overlay.yaml") objects"
  check_overlay "$work/$overlay.yaml" "$dockerfile"
done

# Each kind of check must catch what it is for, and say so: the failure
# must name the problem (REASON, a fixed string), not come from elsewhere.
# expect_failure WHAT REASON SED_SCRIPT (applied to the CPU overlay)
expect_failure() {
  local what="$1" reason="$2" script="$3"
  sed -E "$script" "$work/cpu.yaml" >"$work/broken.yaml"
  cmp -s "$work/cpu.yaml" "$work/broken.yaml" && { echo "self-test '$what' changed nothing"; exit 1; }
  if check_overlay "$work/broken.yaml" ../../Dockerfile >"$work/broken.log" 2>&1; then
    echo "the checks missed: $what"
    exit 1
  fi
  grep -F -m1 -- "$reason" "$work/broken.log" >"$work/reason" ||
    { echo "self-test '$what' failed, but not with '$reason':"; cat "$work/broken.log"; exit 1; }
  echo "caught: $what: $(cat "$work/reason")"
}
expect_failure "a misspelled field" "spec.template.spec.contianers: unknown field" \
  's/^      containers:$/      contianers:/'
expect_failure "a wrong type" "terminationGracePeriodSeconds: 'soon' is not of type 'integer'" \
  's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: soon/'
expect_failure "a probe on a port not served" "Probe port 50052 is not served" \
  's/^            port: 50051$/            port: 50052/'
expect_failure "a grace period shorter than the drain" "terminationGracePeriodSeconds 20 is not longer" \
  's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 20/'
expect_failure "a value outside its enum" "imagePullPolicy: 'Sometimes' is not one of" \
  's/imagePullPolicy: IfNotPresent/imagePullPolicy: Sometimes/'
expect_failure "a malformed quantity" "limits.memory: '8GB' is not a resource quantity" \
  's/^            memory: 8Gi$/            memory: 8GB/'
expect_failure "a Service selecting no pod" "Service codec-server selects" \
  's/^    app.kubernetes.io\/component: server$/    app.kubernetes.io\/component: other/'
echo "k8s manifests pass"
