#!/usr/bin/env bash
# Benchmarks need the same PostgreSQL and NATS as the tests, and the release
# `frevix` binary (the chat benchmark runs messaging as its own process).
# FREVIX_BENCH_ONLY=reads|events|search|chat|contracts|ledger|gateway runs one part; gateway-idle (11 minutes:
# a Subscribe through Envoy left idle) runs only when asked for. The chat part
# offers half pgbench's rate for 30 s, then 1.5 times it for 10 s;
# FREVIX_BENCH_CHAT_RATES=2000,2000 picks fixed steps instead,
# FREVIX_BENCH_CHAT_SECONDS sets their length and FREVIX_BENCH_CHAT_TAIL=1
# shows when the slowest were sent.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/test-services.sh)"
# 10,000 streams need as many sockets on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# One build of both: built apart, their features unify differently and
# every shared crate is compiled twice.
cargo build --release -p frevix -p frevix-bench
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export FREVIX_BENCH_FREVIX_BIN="$target_dir/release/frevix"
"$target_dir/release/frevix-bench"
