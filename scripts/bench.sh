#!/usr/bin/env bash
# Benchmarks need the same PostgreSQL and NATS as the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/test-services.sh)"
cargo run --release -p frevix-bench
