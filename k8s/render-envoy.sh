#!/usr/bin/env bash
# Envoy's configuration for Kubernetes: gateway-envoy/render.py's mesh shape
# (the same routes, filters, limits and health checks as `make mesh`) with the
# Services' DNS names as upstreams and each environment's browser origins.
# The outputs are committed; `make lint` fails when they are stale.
# Usage: k8s/render-envoy.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[[ "${1:-}" == --check ]] && check=1
stale=()

render() { # output file, comma-separated allowed origins
  local out="$1" origins="$2" tmp
  tmp="$(mktemp)"
  # Every variable render.py reads is set here, so the caller's environment
  # cannot change the output.
  env -i PATH="$PATH" \
    FREVIX_GATEWAY_ORIGINS="$origins" \
    FREVIX_GATEWAY_PORT=8080 \
    FREVIX_GATEWAY_ADMIN_PORT=9901 \
    FREVIX_GATEWAY_IDENTITY_HOST=identity \
    FREVIX_GATEWAY_MARKETPLACE_HOST=marketplace \
    FREVIX_GATEWAY_CONTRACTS_HOST=contracts \
    FREVIX_GATEWAY_PAYMENTS_HOST=payments \
    FREVIX_GATEWAY_MESSAGING_HOST=messaging \
    python3 gateway-envoy/render.py --shape mesh --out "$tmp.body"
  {
    echo "# Kubernetes: written by k8s/render-envoy.sh; upstreams are the Services' names."
    cat "$tmp.body"
  } >"$tmp"
  rm -f "$tmp.body"
  if ((check)); then
    cmp -s "$tmp" "$out" || stale+=("$out")
    rm -f "$tmp"
  else
    cat "$tmp" >"$out"
    rm -f "$tmp"
  fi
}

render k8s/base/envoy/envoy.yaml https://app.frevix.dev
# Development: the web client's dev server, through a port-forward to Envoy.
render k8s/overlays/dev/envoy.yaml http://localhost:5173,http://127.0.0.1:5173

if ((${#stale[@]})); then
  echo "out of date: ${stale[*]}; run k8s/render-envoy.sh" >&2
  exit 1
fi
