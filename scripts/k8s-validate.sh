#!/usr/bin/env bash
# The Kubernetes manifests and the Dockerfile, checked offline with the pinned
# tools scripts/tools.sh installs (no cluster, no network):
# - the Envoy configurations rendered for Kubernetes are up to date and
#   accepted by Envoy itself, and NATS accepts its configuration;
# - each overlay renders with a real kustomize (the one built into kubectl);
# - every rendered object passes scripts/k8s_check.py: the Kubernetes schemas
#   and Frevix's own CloudNativePG schema (strict), references, and Frevix's rules;
# - hadolint finds nothing to say about the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

k8s/render-envoy.sh --check
for config in k8s/base/envoy/envoy.yaml k8s/overlays/dev/envoy.yaml; do
  "$bin/envoy" --mode validate -c "$config" --log-level warn >/dev/null
done
SERVER_NAME=nats-0 "$bin/nats-server" --config k8s/base/nats/nats.conf -t 2>/dev/null \
  || { SERVER_NAME=nats-0 "$bin/nats-server" --config k8s/base/nats/nats.conf -t; exit 1; }

rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
for overlay in k8s/overlays/*/; do
  name="$(basename "$overlay")"
  "$bin/kubectl" kustomize "$overlay" >"$rendered/$name.yaml"
done
"$bin/python" scripts/k8s_check.py --supplied k8s/secrets.example.yaml "$rendered"/*.yaml

"$bin/hadolint" Dockerfile
