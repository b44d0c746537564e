"""validate.py RENDERED.yaml KUBERNETES_VERSION: each object of a rendered
overlay against the Kubernetes schemas of that version as kubernetes-validate
bundles them, in strict mode (kubernetes_validate.validate(strict=True)):
types, required fields, known kinds and apiVersions, and no unknown or
misspelled field. Those schemas leave out what else Kubernetes' OpenAPI
says of a value, so a walk of each object along the same schemas adds it:
enum values (ENUMS), the int32 and int64 ranges, resource quantities,
base64 and date-time strings; it also names every unknown field, where the
schema check stops at its first error. Prints each failure as kind, name,
field path and problem, and exits 1 if there is any."""
import base64
import binascii
import datetime
import re
import sys

import kubernetes_validate
import kubernetes_validate.utils
import yaml

# The enum values of Kubernetes' OpenAPI, which kubernetes-validate's schemas
# leave out, by schema definition (less "io.k8s.api.") and field: each field
# of a `// +enum` string type, with that type's constants, in the GA API
# versions of k8s.io/api at tag kubernetes-1.32.13 (the version check.sh
# pins; when that changes, take them again from the new version's types.go).
ENUMS = {
    "admissionregistration.v1.MatchResources": {"matchPolicy": ["Equivalent", "Exact"]},
    "admissionregistration.v1.MutatingWebhook": {
        "failurePolicy": ["Fail", "Ignore"],
        "matchPolicy": ["Equivalent", "Exact"],
        "reinvocationPolicy": ["IfNeeded", "Never"],
        "sideEffects": ["None", "NoneOnDryRun", "Some", "Unknown"],
    },
    "admissionregistration.v1.NamedRuleWithOperations": {
        "operations": ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"],
        "scope": ["*", "Cluster", "Namespaced"],
    },
    "admissionregistration.v1.RuleWithOperations": {
        "operations": ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"],
        "scope": ["*", "Cluster", "Namespaced"],
    },
    "admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec": {
        "validationActions": ["Audit", "Deny", "Warn"],
    },
    "admissionregistration.v1.ValidatingAdmissionPolicySpec": {
        "failurePolicy": ["Fail", "Ignore"],
    },
    "admissionregistration.v1.ValidatingWebhook": {
        "failurePolicy": ["Fail", "Ignore"],
        "matchPolicy": ["Equivalent", "Exact"],
        "sideEffects": ["None", "NoneOnDryRun", "Some", "Unknown"],
    },
    "apps.v1.DaemonSetUpdateStrategy": {"type": ["OnDelete", "RollingUpdate"]},
    "apps.v1.DeploymentStrategy": {"type": ["Recreate", "RollingUpdate"]},
    "apps.v1.StatefulSetSpec": {"podManagementPolicy": ["OrderedReady", "Parallel"]},
    "apps.v1.StatefulSetUpdateStrategy": {"type": ["OnDelete", "RollingUpdate"]},
    "batch.v1.CronJobSpec": {"concurrencyPolicy": ["Allow", "Forbid", "Replace"]},
    "batch.v1.JobSpec": {
        "completionMode": ["Indexed", "NonIndexed"],
        "podReplacementPolicy": ["Failed", "TerminatingOrFailed"],
    },
    "batch.v1.PodFailurePolicyOnExitCodesRequirement": {"operator": ["In", "NotIn"]},
    "batch.v1.PodFailurePolicyRule": {"action": ["Count", "FailIndex", "FailJob", "Ignore"]},
    "certificates.v1.CertificateSigningRequestSpec": {
        "usages": [
            "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign",
            "data encipherment", "decipher only", "digital signature", "email protection",
            "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement",
            "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime",
            "server auth", "signing", "timestamping"],
    },
    "core.v1.AppArmorProfile": {"type": ["Localhost", "RuntimeDefault", "Unconfined"]},
    "core.v1.AzureDiskVolumeSource": {
        "cachingMode": ["None", "ReadOnly", "ReadWrite"],
        "kind": ["Dedicated", "Managed", "Shared"],
    },
    "core.v1.Container": {
        "imagePullPolicy": ["Always", "IfNotPresent", "Never"],
        "terminationMessagePolicy": ["FallbackToLogsOnError", "File"],
    },
    "core.v1.ContainerPort": {"protocol": ["SCTP", "TCP", "UDP"]},
    "core.v1.EndpointPort": {"protocol": ["SCTP", "TCP", "UDP"]},
    "core.v1.EphemeralContainer": {
        "imagePullPolicy": ["Always", "IfNotPresent", "Never"],
        "terminationMessagePolicy": ["FallbackToLogsOnError", "File"],
    },
    "core.v1.HTTPGetAction": {"scheme": ["HTTP", "HTTPS"]},
    "core.v1.HostPathVolumeSource": {
        "type": [
            "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
            "FileOrCreate", "Socket"],
    },
    "core.v1.ImageVolumeSource": {"pullPolicy": ["Always", "IfNotPresent", "Never"]},
    "core.v1.ModifyVolumeStatus": {"status": ["InProgress", "Infeasible", "Pending"]},
    "core.v1.NamespaceStatus": {"phase": ["Active", "Terminating"]},
    "core.v1.NodeSelectorRequirement": {
        "operator": ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"],
    },
    "core.v1.NodeStatus": {"phase": ["Pending", "Running", "Terminated"]},
    "core.v1.PersistentVolumeClaimSpec": {
        "accessModes": ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"],
        "volumeMode": ["Block", "Filesystem"],
    },
    "core.v1.PersistentVolumeClaimStatus": {
        "accessModes": ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"],
        "phase": ["Bound", "Lost", "Pending"],
    },
    "core.v1.PersistentVolumeSpec": {
        "accessModes": ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"],
        "persistentVolumeReclaimPolicy": ["Delete", "Recycle", "Retain"],
        "volumeMode": ["Block", "Filesystem"],
    },
    "core.v1.PersistentVolumeStatus": {
        "phase": ["Available", "Bound", "Failed", "Pending", "Released"],
    },
    "core.v1.PodSecurityContext": {
        "fsGroupChangePolicy": ["Always", "OnRootMismatch"],
        "supplementalGroupsPolicy": ["Merge", "Strict"],
    },
    "core.v1.PodSpec": {
        "dnsPolicy": ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
        "preemptionPolicy": ["Never", "PreemptLowerPriority"],
        "restartPolicy": ["Always", "Never", "OnFailure"],
    },
    "core.v1.PodStatus": {
        "phase": ["Failed", "Pending", "Running", "Succeeded", "Unknown"],
        "qosClass": ["BestEffort", "Burstable", "Guaranteed"],
    },
    "core.v1.PortStatus": {"protocol": ["SCTP", "TCP", "UDP"]},
    "core.v1.ResourceQuotaSpec": {
        "scopes": [
            "BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating",
            "PriorityClass", "Terminating"],
    },
    "core.v1.ScopedResourceSelectorRequirement": {
        "operator": ["DoesNotExist", "Exists", "In", "NotIn"],
        "scopeName": [
            "BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating",
            "PriorityClass", "Terminating"],
    },
    "core.v1.SeccompProfile": {"type": ["Localhost", "RuntimeDefault", "Unconfined"]},
    "core.v1.SecurityContext": {"procMount": ["Default", "Unmasked"]},
    "core.v1.ServicePort": {"protocol": ["SCTP", "TCP", "UDP"]},
    "core.v1.ServiceSpec": {
        "externalTrafficPolicy": ["Cluster", "Local"],
        "internalTrafficPolicy": ["Cluster", "Local"],
        "ipFamilies": ["", "IPv4", "IPv6"],
        "ipFamilyPolicy": ["PreferDualStack", "RequireDualStack", "SingleStack"],
        "sessionAffinity": ["ClientIP", "None"],
        "type": ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
    },
    "core.v1.Taint": {"effect": ["NoExecute", "NoSchedule", "PreferNoSchedule"]},
    "core.v1.Toleration": {
        "effect": ["NoExecute", "NoSchedule", "PreferNoSchedule"],
        "operator": ["Equal", "Exists"],
    },
    "core.v1.TopologySpreadConstraint": {
        "nodeAffinityPolicy": ["Honor", "Ignore"],
        "nodeTaintsPolicy": ["Honor", "Ignore"],
        "whenUnsatisfiable": ["DoNotSchedule", "ScheduleAnyway"],
    },
    "core.v1.VolumeMount": {"mountPropagation": ["Bidirectional", "HostToContainer", "None"]},
    "discovery.v1.EndpointPort": {"protocol": ["SCTP", "TCP", "UDP"]},
    "discovery.v1.EndpointSlice": {"addressType": ["FQDN", "IPv4", "IPv6"]},
    "networking.v1.HTTPIngressPath": {"pathType": ["Exact", "ImplementationSpecific", "Prefix"]},
    "networking.v1.IngressPortStatus": {"protocol": ["SCTP", "TCP", "UDP"]},
    "networking.v1.NetworkPolicyPort": {"protocol": ["SCTP", "TCP", "UDP"]},
    "networking.v1.NetworkPolicySpec": {"policyTypes": ["Egress", "Ingress"]},
    "policy.v1.PodDisruptionBudgetSpec": {
        "unhealthyPodEvictionPolicy": ["AlwaysAllow", "IfHealthyBudget"],
    },
    "scheduling.v1.PriorityClass": {"preemptionPolicy": ["Never", "PreemptLowerPriority"]},
    "storage.v1.StorageClass": {
        "reclaimPolicy": ["Delete", "Recycle", "Retain"],
        "volumeBindingMode": ["Immediate", "WaitForFirstConsumer"],
    },
}

# A resource.Quantity string (the pattern Kubernetes' own CRD schemas use).
NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)"
QUANTITY = re.compile(rf"{NUMBER}([KMGTPE]i|[numkMGTPE]|[eE]{NUMBER})?")
INT_BITS = {"int32": 32, "int64": 64}


def schema_file(name, version):
    # The strict schemas kubernetes_validate.validate(strict=True) reads.
    return kubernetes_validate.utils.schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/{name}", version)


def path_of(parts):
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path


def walk(value, schema, path, definitions, problems, definition=None):
    """What kubernetes-validate's schemas do not check of VALUE, found along
    them; kept to the value's shape so that it reports no type errors of its
    own (the schema check does)."""
    if "$ref" in schema:
        definition = schema["$ref"].rsplit("/", 1)[1]
        schema = definitions[definition]
    if definition == "io.k8s.apimachinery.pkg.api.resource.Quantity":
        if isinstance(value, str) and not QUANTITY.fullmatch(value):
            problems.append((path, f"{value!r} is not a resource quantity"))
        return
    fmt = schema.get("format")
    if fmt in INT_BITS and isinstance(value, int) and not isinstance(value, bool):
        bound = 2 ** (INT_BITS[fmt] - 1)
        if not -bound <= value < bound:
            problems.append((path, f"{value} is out of the {fmt} range"))
    elif fmt == "byte" and isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            problems.append((path, f"{value!r} is not base64"))
    elif fmt == "date-time" and isinstance(value, str):
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append((path, f"{value!r} is not an RFC 3339 date-time"))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        enums = ENUMS.get(definition.removeprefix("io.k8s.api."), {}) if definition else {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in properties:
                allowed = enums.get(key, [])
                for one in item if isinstance(item, list) else [item]:
                    if allowed and isinstance(one, str) and one not in allowed:
                        problems.append((where, f"{one!r} is not one of {allowed}"))
                walk(item, properties[key], where, definitions, problems)
            elif extra is False:
                problems.append((where, "unknown field"))
            elif isinstance(extra, dict):
                walk(item, extra, where, definitions, problems)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            walk(item, schema["items"], f"{path}[{index}]", definitions, problems)


def main():
    rendered, version = sys.argv[1], sys.argv[2]
    bundled = list(dict.fromkeys(kubernetes_validate.utils.all_versions()))
    if version not in bundled:
        sys.exit(f"kubernetes-validate {kubernetes_validate.__version__} has no schemas for "
                 f"Kubernetes {version} (it has {', '.join(bundled)})")
    definitions = schema_file("_definitions.json", version)["$defs"]
    docs = [doc for doc in yaml.safe_load_all(open(rendered)) if doc is not None]
    failures = 0
    for doc in docs:
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
            print(f"schema FAILS: not a Kubernetes object (no apiVersion or kind): {doc!r:.80}")
            failures += 1
            continue
        what = f"{doc['kind']} {(doc.get('metadata') or {}).get('name')}"
        problems = []
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            pass  # below
        except kubernetes_validate.ValidationError as error:
            # The walk names each unknown field; this error names the first.
            if error.validator != "additionalProperties":
                problems.append((path_of(error.path), error.message))
        # The schema kubernetes_validate.validate chose (apps/v1 -> apps-v1), if
        # it is one of an object (a kind of its own), not of a part of one.
        api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", doc["apiVersion"])
        try:
            schema = schema_file(f"{doc['kind'].lower()}-{api}.json", version)
        except FileNotFoundError:
            schema = {}
        if doc["kind"] not in schema.get("properties", {}).get("kind", {}).get("enum", []):
            print(f"schema FAILS: {what}: no kind {doc['kind']} in {doc['apiVersion']} "
                  f"in Kubernetes {version}")
            failures += 1
            continue
        walk(doc, schema, "", definitions, problems)
        for path, message in problems:
            print(f"schema FAILS: {what}: {path or '(object)'}: {message}")
        failures += bool(problems)
        if not problems:
            print(f"schema ok: {what}")
    print(f"{len(docs) - failures} of {len(docs)} objects valid for Kubernetes {version}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
