#!/usr/bin/env bash
# The browser test: builds the page in gateway-envoy/web, starts the mesh
# (scripts/mesh.sh with its own fresh databases) and drives two headless
# Chromium contexts through Envoy with Playwright. Screenshots of each step
# land in gateway-envoy/web/e2e-artifacts/. Then scripts/rest-test.sh drives
# the same mesh over REST/JSON with curl.
# Debian's Chromium is installed when missing (as root); Playwright never
# downloads a browser of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
WEB="$REPO/gateway-envoy/web"
MESH="$REPO/data/e2e"

log() { printf 'web-test.sh: %s\n' "$*" >&2; }

# Vite 8 needs Node.js 20.19 or newer (Debian 12's own nodejs is 18).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  log "the browser test needs Node.js 20.19+ with npm (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium >&2
  else
    log "no Chromium at $chromium: install Debian's chromium package or set CHROMIUM"
    exit 1
  fi
fi

# The page, with code generated from proto/ (npm ci installs exactly the lock file).
(cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) >&2

rm -rf "$MESH" && mkdir -p "$MESH"
MESH_DIR="$MESH" MESH_DB_PREFIX=frevix_e2e_ MESH_FRESH=1 \
  scripts/mesh.sh >"$MESH/mesh.log" 2>&1 &
mesh=$!
stop() { kill -TERM "$mesh" 2>/dev/null || true; wait "$mesh" 2>/dev/null || true; }
trap stop EXIT

# Ready when a public call passes Envoy to marketplace.
deadline=$((SECONDS + 300))
until .venv/bin/grpcurl -plaintext -max-time 2 127.0.0.1:8080 \
    frevix.marketplace.v1.MarketplaceService/ListCategories >/dev/null 2>&1; do
  if ! kill -0 "$mesh" 2>/dev/null || ((SECONDS > deadline)); then
    log "the mesh did not come up:"; cat "$MESH/mesh.log" >&2
    tail -n 20 "$MESH"/logs/*.log >&2 || true
    exit 1
  fi
  sleep 1
done

CHROMIUM="$chromium" E2E_MAIL_LOG="$MESH/logs/mail.log" \
  node "$WEB/e2e/browser-chat.mjs"

# The REST/JSON door of the same mesh, with curl only.
scripts/rest-test.sh http://127.0.0.1:8080 "$MESH/logs/mail.log"
