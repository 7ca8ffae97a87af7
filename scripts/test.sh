#!/usr/bin/env bash
# Runs every test against real PostgreSQL, NATS and an SMTP server. Uses the
# ones on the usual local ports when they answer and starts its own otherwise
# (scripts/test-services.sh), so it works on a fresh machine too. Ends with
# a short chaos run (scripts/chaos.sh) and the browser test
# (scripts/web-test.sh): Playwright through Envoy, the mesh.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/test-services.sh)"

# Test databases of runs that were killed, and templates of older schemas.
psql "$FREVIX_TEST_DATABASE_URL" -Atc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'frevix_test_%' OR datname LIKE 'frevix_tpl_%'" |
  while read -r db; do
    [ -n "$db" ] && psql "$FREVIX_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  echo "cargo-nextest not found; using cargo test" >&2
  cargo test --workspace --no-fail-fast
fi

# The hire saga under faults: a short run with a fixed seed (`make chaos`
# is the whole one). Its own private PostgreSQL and NATS, restarted once each.
scripts/chaos.sh --seed 20261201 --sagas 24 --kills 8

# The browser client through Envoy against the mesh (Playwright + Chromium).
scripts/web-test.sh
