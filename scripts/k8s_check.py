#!/usr/bin/env python3
"""Checks Frevix's rendered Kubernetes manifests offline (scripts/k8s-validate.sh
renders them; nothing here talks to a cluster).

1. Schemas. Every object validates against the Kubernetes API schemas that
   kubernetes-validate ships, for the oldest and the newest Kubernetes Frevix
   supports, strictly: an unknown field fails, as it does on a server with
   strict field validation. CloudNativePG objects validate against
   k8s/schemas/cloudnative-pg.json, Frevix's own JSON Schema of the fields
   its manifests use, just as strict. A kind with no schema is an error,
   never a silent pass. (Not covered: what only the API server, admission or
   an operator checks, such as the CRDs' own validation rules.)
2. References. Every Secret, ConfigMap and ServiceAccount a pod uses exists
   in the render (or, for Secrets, is one operators supply: --supplied FILE),
   with the keys it reads; every Service, PodDisruptionBudget, autoscaler and
   NetworkPolicy selects or targets something that exists.
3. Frevix's rules. Every container runs non-root, read-only, without
   privilege escalation or capabilities, with requests and limits and a
   pinned image; Frevix servers have gRPC probes on their port, a preStop
   sleep, and a termination grace period longer than the preStop plus the
   drain (server.shutdown_grace_secs); FREVIX_ variables name real
   configuration sections (the configuration rejects unknown keys).

Usage: scripts/k8s_check.py [--supplied SECRETS.yaml] RENDERED.yaml...
"""

import argparse
import json
import re
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

REPO = Path(__file__).resolve().parent.parent
# The oldest Kubernetes the manifests target (native gRPC probes, the preStop
# sleep action, autoscaling/v2) and the newest the schemas know.
KUBERNETES_VERSIONS = ["1.30", "1.37"]
# Custom resources: Frevix's own schema of the fields it uses, one
# definition per kind under $defs.
CRD_SCHEMA = REPO / "k8s" / "schemas" / "cloudnative-pg.json"
CRD_KINDS = {("postgresql.cnpg.io/v1", "Cluster"), ("postgresql.cnpg.io/v1", "Database")}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
# Extra time a server needs after its drain: relays and consumers finish
# their current step (Background::shutdown), telemetry flushes.
AFTER_DRAIN_SECS = 10
DEFAULT_SHUTDOWN_GRACE_SECS = 20


class Report:
    def __init__(self):
        self.errors = []

    def error(self, where, doc, message):
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}" if doc else ""
        self.errors.append(f"{where}: {name}: {message}")


# --- schemas -----------------------------------------------------------------


def load_crd_validators():
    schema = json.loads(CRD_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validators = {}
    for api_version, kind in CRD_KINDS:
        if kind not in schema["$defs"]:
            sys.exit(f"k8s_check: {CRD_SCHEMA.name} has no $defs/{kind}")
        # The whole document (for its $defs), entered at this kind's definition.
        entry = {**schema, "$ref": f"#/$defs/{kind}"}
        validators[(api_version, kind)] = jsonschema.Draft202012Validator(entry)
    return validators


def check_schema(where, doc, crds, report):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in crds:
        for error in sorted(crds[key].iter_errors(doc), key=lambda e: list(e.path)):
            path = ".".join(str(p) for p in error.path)
            report.error(where, doc, f"{path}: {error.message} ({CRD_SCHEMA.name})")
    checked = doc
    if key in crds:
        # Its schema says only "metadata: object"; check it as Kubernetes would.
        checked = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc.get("metadata", {})}
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(checked, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            report.error(where, doc, f"{path}: {error.message} (Kubernetes {version})")
            return
        except SchemaNotFoundError as error:
            report.error(where, doc, f"{error.message}: no schema to validate it against")
            return


# --- what pods use -----------------------------------------------------------


def pod_spec(doc):
    if doc.get("kind") in WORKLOADS:
        return doc.get("spec", {}).get("template", {}).get("spec", {})
    return None


def pod_labels(doc):
    return doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})


def containers(spec):
    return spec.get("initContainers", []) + spec.get("containers", [])


def pod_refs(spec, kind):
    """(name, key or None, optional) for each `kind` ("secret" or "configMap")
    a pod spec reads: env values, envFrom and volumes."""
    refs = []
    name_field = "secretName" if kind == "secret" else "name"
    for container in containers(spec):
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get(f"{kind}KeyRef")
            if ref:
                refs.append((ref["name"], ref["key"], ref.get("optional", False)))
        for source in container.get("envFrom", []):
            ref = source.get(f"{kind}Ref")
            if ref:
                refs.append((ref["name"], None, ref.get("optional", False)))
    for volume in spec.get("volumes", []):
        ref = volume.get(kind)
        if ref:
            refs.append((ref[name_field], None, ref.get("optional", False)))
    return refs


def secret_refs(doc):
    """(name, key or None, optional) for every Secret a manifest reads."""
    refs = pod_refs(pod_spec(doc) or {}, "secret")
    if doc.get("kind") == "Cluster":
        for role in doc.get("spec", {}).get("managed", {}).get("roles", []):
            if "passwordSecret" in role:
                refs.append((role["passwordSecret"]["name"], "password", False))
    return refs


def config_map_refs(doc):
    return pod_refs(pod_spec(doc) or {}, "configMap")


def keys_of(doc):
    return set(doc.get("data", {})) | set(doc.get("stringData", {}))


def selects(selector, labels):
    """Whether a label selector (matchLabels and matchExpressions) matches."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def check_references(where, docs, supplied, report):
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    secrets = {**supplied, **by_kind.get("Secret", {})}
    config_maps = by_kind.get("ConfigMap", {})
    # Pods of the namespace: workload templates, plus the instances
    # CloudNativePG creates for each Cluster (labelled cnpg.io/cluster).
    pods = [pod_labels(doc) for doc in docs if doc["kind"] in WORKLOADS]
    pods += [{"cnpg.io/cluster": name} for name in by_kind.get("Cluster", {})]

    def check_refs(doc, kind, refs, known, missing):
        for name, key, optional in refs:
            found = known.get(name)
            if found is None:
                if not optional:
                    report.error(where, doc, f"{kind} {name} {missing}")
            elif key is not None and key not in keys_of(found):
                report.error(where, doc, f"{kind} {name} has no key {key}")

    for doc in docs:
        check_refs(doc, "Secret", secret_refs(doc), secrets, "is neither rendered nor in the supplied list")
        check_refs(doc, "ConfigMap", config_map_refs(doc), config_maps, "is not rendered")
        spec = pod_spec(doc)
        if spec is not None:
            account = spec.get("serviceAccountName")
            if account and account not in by_kind.get("ServiceAccount", {}):
                report.error(where, doc, f"ServiceAccount {account} is not rendered")
        kind = doc["kind"]
        if kind == "Service" and doc["spec"].get("selector"):
            if not any(selects({"matchLabels": doc["spec"]["selector"]}, labels) for labels in pods):
                report.error(where, doc, "its selector matches no pod")
        if kind == "PodDisruptionBudget":
            if not any(selects(doc["spec"]["selector"], labels) for labels in pods):
                report.error(where, doc, "its selector matches no pod")
        if kind == "HorizontalPodAutoscaler":
            target = doc["spec"]["scaleTargetRef"]
            if target["name"] not in by_kind.get(target["kind"], {}):
                report.error(where, doc, f"scales {target['kind']}/{target['name']}, which is not rendered")
        if kind == "NetworkPolicy":
            check_network_policy(where, doc, pods, report)


def check_network_policy(where, doc, pods, report):
    spec = doc["spec"]
    if spec["podSelector"] and not any(selects(spec["podSelector"], labels) for labels in pods):
        report.error(where, doc, "its podSelector matches no pod")
    peers = [peer for rule in spec.get("ingress", []) for peer in rule.get("from", [])]
    peers += [peer for rule in spec.get("egress", []) for peer in rule.get("to", [])]
    for peer in peers:
        # Peers in this namespace must exist; other namespaces are not rendered here.
        if "podSelector" in peer and "namespaceSelector" not in peer:
            if not any(selects(peer["podSelector"], labels) for labels in pods):
                report.error(where, doc, f"peer {peer['podSelector']} matches no pod")


# --- Frevix's rules ----------------------------------------------------------


def config_sections():
    """Top-level keys of the Frevix configuration: the shared sections of
    FrevixConfig (written by the registry macro in crates/frevix/src/entry.rs)
    and one per registered service (crates/frevix/src/registry.rs)."""
    src = REPO / "crates" / "frevix" / "src"
    entry = (src / "entry.rs").read_text()
    body = re.search(r"pub struct FrevixConfig \{(.*?)\n\s*\}", entry, re.S)
    if body is None:
        sys.exit("k8s_check: cannot find FrevixConfig in crates/frevix/src/entry.rs")
    shared = set(re.findall(r"^\s*pub (\w+):", body.group(1), re.M))
    registry = re.search(r"^registry! \{(.*?)^\}", (src / "registry.rs").read_text(), re.S | re.M)
    if registry is None:
        sys.exit("k8s_check: cannot find the registry! list in crates/frevix/src/registry.rs")
    services = set(re.findall(r"^\s*(\w+): \S+,", registry.group(1), re.M))
    if not services:
        sys.exit("k8s_check: the registry lists no service")
    return shared | services


def is_frevix(container):
    """A Frevix server: the frevix image running its own binary (the image's
    Stripe stand-in, a development tool, is not one)."""
    if container.get("command", ["frevix"])[0] != "frevix":
        return False
    return re.search(r"(^|/)frevix(:|@|$)", container.get("image", "")) is not None


def check_rules(where, docs, sections, report):
    config_maps = {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == "ConfigMap"}
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        pod_security = spec.get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True:
            report.error(where, doc, "pod securityContext.runAsNonRoot is not true")
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            report.error(where, doc, "pod seccompProfile is not RuntimeDefault")
        for container in containers(spec):
            name = container["name"]
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                report.error(where, doc, f"{name}: allowPrivilegeEscalation is not false")
            if security.get("readOnlyRootFilesystem") is not True:
                report.error(where, doc, f"{name}: readOnlyRootFilesystem is not true")
            if "ALL" not in security.get("capabilities", {}).get("drop", []):
                report.error(where, doc, f"{name}: capabilities do not drop ALL")
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(kind, {}):
                        report.error(where, doc, f"{name}: no {resource} in resources.{kind}")
            image = container.get("image", "")
            if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
                report.error(where, doc, f"{name}: image {image} is not pinned to a tag or digest")
            if is_frevix(container):
                check_frevix_container(where, doc, spec, container, config_maps, sections, report)


def frevix_variables(container, config_maps):
    names = [env["name"] for env in container.get("env", [])]
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref and ref["name"] in config_maps:
            names += list(config_maps[ref["name"]].get("data", {}))
    return names


def check_frevix_container(where, doc, spec, container, config_maps, sections, report):
    name = container["name"]
    if spec.get("enableServiceLinks") is not False:
        report.error(where, doc, "enableServiceLinks is not false (service links add FREVIX_… variables)")
    # Tool variables the configuration ignores (config.rs TOOL_VARIABLES).
    tools = ("test_", "bench_", "admin_", "config")
    values = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref and ref["name"] in config_maps:
            values.update(config_maps[ref["name"]].get("data", {}))
    values.update({env["name"]: env.get("value") for env in container.get("env", [])})
    for variable in frevix_variables(container, config_maps):
        if not variable.startswith("FREVIX_"):
            continue
        key = variable[len("FREVIX_"):].lower()
        if key.startswith(tools):
            continue
        section = key.split("__")[0]
        if section not in sections:
            report.error(where, doc, f"{name}: {variable} names no configuration section ({sorted(sections)})")
    if doc["kind"] != "Deployment":
        return
    ports = {port["containerPort"] for port in container.get("ports", [])}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        grpc = container.get(probe, {}).get("grpc")
        if grpc is None:
            report.error(where, doc, f"{name}: {probe} is not a gRPC health check")
        elif grpc["port"] not in ports:
            report.error(where, doc, f"{name}: {probe} checks port {grpc['port']}, not a container port")
    sleep = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
    if sleep is None:
        report.error(where, doc, f"{name}: no preStop sleep (endpoints must go before the drain)")
        sleep = 0
    drain = int(values.get("FREVIX_SERVER__SHUTDOWN_GRACE_SECS") or DEFAULT_SHUTDOWN_GRACE_SECS)
    needed = sleep + drain + AFTER_DRAIN_SECS
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace < needed:
        report.error(
            where, doc,
            f"terminationGracePeriodSeconds {grace} < preStop {sleep} + drain {drain} + {AFTER_DRAIN_SECS}",
        )


# --- main ----------------------------------------------------------------------


def load(path):
    return [doc for doc in yaml.safe_load_all(Path(path).read_text()) if doc]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--supplied", help="Secrets operators supply (their schema is checked too)")
    parser.add_argument("rendered", nargs="+")
    args = parser.parse_args()

    report = Report()
    crds = load_crd_validators()
    sections = config_sections()
    supplied = {}
    if args.supplied:
        for doc in load(args.supplied):
            check_schema(args.supplied, doc, crds, report)
            if doc.get("kind") != "Secret":
                report.error(args.supplied, doc, "only Secrets belong in the supplied list")
            supplied[doc["metadata"]["name"]] = doc
    counted = 0
    for path in args.rendered:
        where = Path(path).stem
        docs = load(path)
        counted += len(docs)
        before = len(report.errors)
        for doc in docs:
            check_schema(where, doc, crds, report)
        if len(report.errors) > before:
            # The other checks read fields the schemas vouch for.
            report.errors.append(f"{where}: references and rules not checked until the schemas pass")
            continue
        check_references(where, docs, supplied, report)
        check_rules(where, docs, sections, report)

    for error in report.errors:
        print(f"k8s: {error}", file=sys.stderr)
    renders = ", ".join(Path(path).stem for path in args.rendered)
    versions = " and ".join(KUBERNETES_VERSIONS)
    if report.errors:
        print(f"k8s: {len(report.errors)} problem(s) in {counted} objects ({renders})", file=sys.stderr)
        sys.exit(1)
    print(f"k8s: {counted} objects ({renders}) valid for Kubernetes {versions}, Frevix's CloudNativePG schema and Frevix's rules")


if __name__ == "__main__":
    main()
