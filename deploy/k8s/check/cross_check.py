"""cross_check.py RENDERED.yaml DOCKERFILE: what the schemas cannot check of
a rendered overlay. Probe, Service and metrics ports are ports the container
serves and the server listens on; selectors match the pod labels; the
autoscaler, ConfigMap and volume references resolve; the grace period
exceeds the preStop pause plus the server's drain; the pod runs as the
image's non-root user on a read-only root; every FLAGS_ variable is one the
image's entrypoint reads; GPUs are requested as limits. Prints each problem
and exits 1 if there is any."""
import json
import re
import sys

import yaml

docs = [doc for doc in yaml.safe_load_all(open(sys.argv[1])) if doc]
dockerfile = open(sys.argv[2]).read()
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def of_kind(kind):
    return [doc for doc in docs if doc["kind"] == kind]


def subset(selector, labels):
    return all(labels.get(key) == value for key, value in (selector or {}).items())


entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M).group(1))
image_flags = set(next(arg for arg in entrypoint if arg.startswith("--tryfromenv="))
                  .split("=", 1)[1].split(","))
image_user = re.search(r"^USER (\d+)$", dockerfile, re.M).group(1)
config_maps = {doc["metadata"]["name"]: doc.get("data", {}) for doc in of_kind("ConfigMap")}
claims = {doc["metadata"]["name"] for doc in of_kind("PersistentVolumeClaim")}
deployments = of_kind("Deployment")
check(len(deployments) == 1, f"expected one Deployment, found {len(deployments)}")
for deployment in deployments:
    name = deployment["metadata"]["name"]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    check(spec["selector"].get("matchLabels") and subset(spec["selector"]["matchLabels"], labels),
          f"Deployment {name}: selector {spec['selector']} does not match its pod labels {labels}")
    ports = {}
    for container in pod["containers"]:
        env = {item["name"]: item for item in container.get("env", [])}
        for port in container.get("ports", []):
            ports[port["containerPort"]] = port
            if "name" in port:
                ports[port["name"]] = port
        for variable, item in env.items():
            if variable.startswith("FLAGS_"):
                check(variable[6:] in image_flags,
                      f"{container['name']}: {variable} is not read by the image "
                      f"(--tryfromenv has {sorted(image_flags)})")
            ref = item.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                check(ref["key"] in config_maps.get(ref["name"], {}),
                      f"{container['name']}: {variable} names ConfigMap {ref['name']} key "
                      f"{ref['key']}, which the overlay does not define")

        def listen_port(flag):
            value = env.get(flag, {}).get("value", "")
            return int(value.rsplit(":", 1)[1]) if ":" in value else None

        grpc_port = listen_port("FLAGS_listen")
        metrics_port = listen_port("FLAGS_metrics_listen")
        check(grpc_port in ports, f"{container['name']}: FLAGS_listen's port {grpc_port} "
              "is not a container port")
        check(metrics_port in ports, f"{container['name']}: FLAGS_metrics_listen's port "
              f"{metrics_port} is not a container port")
        annotations = spec["template"]["metadata"].get("annotations", {})
        if "prometheus.io/port" in annotations:
            check(int(annotations["prometheus.io/port"]) == metrics_port,
                  f"prometheus.io/port {annotations['prometheus.io/port']} is not the metrics "
                  f"port {metrics_port}")
        for probe_name in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = container.get(probe_name)
            check(probe is not None, f"{container['name']}: no {probe_name}")
            if not probe:
                continue
            handler = probe.get("grpc") or probe.get("httpGet") or probe.get("tcpSocket") or {}
            check(handler.get("port") in ports,
                  f"{container['name']}: {probe_name} port {handler.get('port')} is not served")
            if "grpc" in probe:
                check(probe["grpc"]["port"] in (grpc_port, ports.get(grpc_port, {}).get("name")),
                      f"{container['name']}: {probe_name} is not on the gRPC port {grpc_port}")
        drain = float(env.get("FLAGS_shutdown_grace_seconds", {}).get("value", 30))
        pre_stop = container.get("lifecycle", {}).get("preStop", {})
        pause = pre_stop.get("sleep", {}).get("seconds", 0)
        command = pre_stop.get("exec", {}).get("command", [])
        if command[:1] == ["sleep"]:
            pause = float(command[1])
        grace = pod.get("terminationGracePeriodSeconds", 30)
        check(grace > pause + drain, f"terminationGracePeriodSeconds {grace} is not longer "
              f"than the preStop pause {pause} plus the server's drain {drain}")
        security = container.get("securityContext", {})
        check(security.get("readOnlyRootFilesystem") is True,
              f"{container['name']}: root filesystem is not read-only")
        check(security.get("allowPrivilegeEscalation") is False,
              f"{container['name']}: privilege escalation is allowed")
        resources = container.get("resources", {})
        gpus = resources.get("requests", {}).get("nvidia.com/gpu")
        if gpus is not None:
            check(resources.get("limits", {}).get("nvidia.com/gpu") == gpus,
                  f"{container['name']}: nvidia.com/gpu must be a limit equal to its request")
            check(env.get("FLAGS_devices", {}).get("value") not in (None, "cpu"),
                  f"{container['name']}: has a GPU but FLAGS_devices does not use it")
            check(any(t.get("key") == "nvidia.com/gpu" for t in pod.get("tolerations", [])),
                  f"{name}: GPU pods need the nvidia.com/gpu toleration")
    pod_security = pod.get("securityContext", {})
    check(pod_security.get("runAsNonRoot") is True, f"{name}: pods may run as root")
    check(str(pod_security.get("runAsUser")) == image_user,
          f"{name}: runAsUser {pod_security.get('runAsUser')} is not the image's user "
          f"{image_user}")
    for volume in pod.get("volumes", []):
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim:
            check(claim in claims, f"{name}: volume {volume['name']} claims {claim}, which the "
                  "overlay does not define")
    for service in of_kind("Service"):
        check(subset(service["spec"].get("selector"), labels) and service["spec"].get("selector"),
              f"Service {service['metadata']['name']} selects {service['spec'].get('selector')},"
              f" not the pods' labels {labels}")
        for port in service["spec"]["ports"]:
            check(port.get("targetPort", port["port"]) in ports,
                  f"Service {service['metadata']['name']}: targetPort "
                  f"{port.get('targetPort')} is not a container port")
    for budget in of_kind("PodDisruptionBudget"):
        check(subset(budget["spec"]["selector"].get("matchLabels"), labels),
              f"PodDisruptionBudget {budget['metadata']['name']} does not select the pods")
    for scaler in of_kind("HorizontalPodAutoscaler"):
        target = scaler["spec"]["scaleTargetRef"]
        check((target["kind"], target["name"]) == ("Deployment", name),
              f"HorizontalPodAutoscaler {scaler['metadata']['name']} scales {target}, not "
              f"Deployment {name}")
        check("replicas" not in spec, f"Deployment {name} sets replicas, which the autoscaler "
              "owns")
        check(scaler["spec"].get("minReplicas", 1) >= 2, "fewer than 2 replicas: a drain or "
              "disruption leaves no pod serving")

for problem in problems:
    print(f"cross-check FAILS: {problem}")
if not problems:
    print(f"cross-checks ok: {len(docs)} objects")
sys.exit(1 if problems else 0)
