#!/usr/bin/env bash
# Formatting, clippy with warnings as errors, and the protobuf contracts:
# buf lint always; buf breaking against main when main has a proto module to
# compare with, and against the newest release tag (`v*`) once there is one
# (they guard every client and event consumer). Then the gateway
# configurations, the Kubernetes manifests and Dockerfile (offline), and the
# dependency graph (cargo deny: licenses, bans and duplicates, sources).
set -euo pipefail
cd "$(dirname "$0")/.."
buf=.venv/bin/buf

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
"$buf" lint proto
# Field behaviour on every request field, and no rule the server cannot keep.
python3 scripts/proto-conventions.py
# The gateway: rendered files up to date, and both accepted by Envoy itself.
python3 gateway-envoy/render.py --check
for config in gateway-envoy/envoy-mesh.yaml gateway-envoy/envoy-all-in-one.yaml; do
  .venv/bin/envoy --mode validate -c "$config" --log-level warn >/dev/null
done
# The REST/JSON door's OpenAPI document: up to date with proto/, and valid.
python3 gateway-envoy/openapi.py --check
.venv/bin/openapi-spec-validator docs/openapi.json >/dev/null
# The HTML reference (make docs) still builds.
python3 gateway-envoy/reference.py "$(mktemp -d)/api.html" >/dev/null
# Kubernetes: overlays rendered with kustomize and validated against schemas.
scripts/k8s-validate.sh
scripts/deny.sh
if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto/buf.yaml 2>/dev/null; then
  "$buf" breaking proto --against ".git#branch=main,subdir=proto"
fi
release="$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)"
if [[ -n "$release" ]] && git cat-file -e "$release:proto/buf.yaml" 2>/dev/null; then
  "$buf" breaking proto --against ".git#tag=$release,subdir=proto"
fi
