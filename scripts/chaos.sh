#!/usr/bin/env bash
# `make chaos`: hire sagas through the mesh while a seeded fault driver
# SIGKILLs services and restarts NATS and PostgreSQL, then a check that
# nothing was lost or doubled (crates/chaos). The run restarts its broker
# and database, so it always gets private ones (never the machine's) from
# scripts/test-services.sh, on ports below the ephemeral range, stopped
# again at the end. Arguments go to frevix-chaos (--help); with none, the
# full run: 100 sagas, 30 kills, both restarts, a random seed.
# Env: FREVIX_CHAOS_SEED  replay a printed seed's fault schedule
set -euo pipefail
cd "$(dirname "$0")/.."

export FREVIX_TEST_SERVICES_DIR="$PWD/target/chaos/services"
export FREVIX_PG_PORT_CHECK=1 FREVIX_NATS_PORT_CHECK=1
export FREVIX_PG_PORT="${FREVIX_CHAOS_PG_PORT:-23432}" FREVIX_NATS_PORT="${FREVIX_CHAOS_NATS_PORT:-23222}"
eval "$(scripts/test-services.sh)"
trap 'scripts/test-services.sh stop' EXIT

cargo build -q -p frevix -p frevix-chaos
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"
FREVIX_CHAOS_BIN="$target/frevix" "$target/frevix-chaos" --dir "$PWD/target/chaos/run" "$@"
