#!/usr/bin/env bash
# The supply chain (part of `make lint`): `cargo deny` checks every crate in
# the dependency graph against deny.toml — licenses, banned crates and
# duplicate versions, sources. cargo-deny is built once (pinned, --locked)
# into a cache outside the clone, so CI runs on one machine share it.
# Advisories are not checked here: RustSec's database is a git repository
# on GitHub, which this project's machines cannot reach. Where it can be
# had, `cargo deny check advisories` runs with this same deny.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.20.2
root="${FREVIX_TOOLS_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/frevix-tools}"
deny="$root/bin/cargo-deny"
if ! "$deny" --version 2>/dev/null | grep -q " $version\$"; then
  echo "deny.sh: building cargo-deny $version into $root (once)" >&2
  cargo install --quiet --locked --root "$root" "cargo-deny@$version" </dev/null
fi
"$deny" --log-level error check bans licenses sources
