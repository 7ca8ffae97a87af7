#!/usr/bin/env bash
# `make mesh`: Frevix as the mesh it is in production, on this machine:
# PostgreSQL and NATS JetStream (the machine's, or private ones started by
# scripts/test-services.sh), an SMTP sink that prints mail, every service
# (`frevix services`) as its own process with its own database,
# and Envoy in front on 127.0.0.1:8080 (admin on 127.0.0.1:9901). Payments
# talks to Stripe's API as Frevix's stand-in answers it (127.0.0.1:12111,
# crates/stripe-standin), which sends its signed webhooks through Envoy.
# Ctrl-C (or TERM) stops everything it started. Logs go to data/mesh/logs/.
# Env: MESH_DIR        where logs and media go (default data/mesh)
#      MESH_DB_PREFIX  database names (default frevix_: frevix_identity, …)
#      MESH_FRESH=1    drop those databases first (the browser test does)
#      MESH_PROVIDER   stripe (default: the stand-in) or sandbox
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
DIR="${MESH_DIR:-$REPO/data/mesh}"
PREFIX="${MESH_DB_PREFIX:-frevix_}"
LOGS="$DIR/logs"
mkdir -p "$LOGS" "$DIR/media"

PROVIDER="${MESH_PROVIDER:-stripe}"
cargo build -p frevix -p frevix-stripe-standin
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"
bin="$target/frevix"
# Every registered service with its port: "identity 50051" …
mapfile -t services < <("$bin" services)

# The mesh listens on fixed ports; say which one is taken rather than fail later.
ports=(2525 8080 9901 12111)
for line in "${services[@]}"; do ports+=("${line#* }"); done
# The services' ports (50050–50055) lie in Linux's ephemeral range: an
# outgoing connection (to PostgreSQL, NATS) may get one as its source port
# and keep it. Where allowed (root), they are reserved so none does.
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
if [[ -w "$reserved" ]]; then
  want="$(IFS=,; echo "${ports[*]}")"
  have="$(cat "$reserved")"
  echo "${have:+$have,}$want" >"$reserved" 2>/dev/null || true
fi
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "mesh: 127.0.0.1:$port is in use (another mesh?); stop it first" >&2
    exit 1
  fi
  if command -v ss >/dev/null && [[ -n "$(ss -Htan state established "( sport = :$port )" 2>/dev/null)" ]]; then
    echo "mesh: port $port is held by a connection (ss -tan 'sport = :$port'); try again when it closes" >&2
    exit 1
  fi
done

eval "$(scripts/test-services.sh)"
pg="$FREVIX_TEST_DATABASE_URL"
nats="$FREVIX_TEST_NATS_URL"
py="$REPO/.venv/bin/python"

for line in "${services[@]}"; do
  db="${line% *}"
  if [[ "${MESH_FRESH:-}" == 1 ]]; then
    psql "$pg" -qc "DROP DATABASE IF EXISTS \"$PREFIX$db\" WITH (FORCE)" >/dev/null
  fi
  # Fails harmlessly when it exists.
  psql "$pg" -qc "CREATE DATABASE \"$PREFIX$db\"" >/dev/null 2>&1 || true
done

pids=()
stop() {
  trap - INT TERM EXIT
  echo "mesh: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

PYTHONUNBUFFERED=1 "$py" -m aiosmtpd -n -l 127.0.0.1:2525 >"$LOGS/mail.log" 2>&1 &
pids+=($!)

# Stripe's side: the stand-in, delivering to payments through Envoy as
# Stripe would. The keys are the stand-in's; real test-mode keys go in the
# same variables (README: "Payments with real Stripe").
webhook_secret=whsec_frevix_mesh
if [[ "$PROVIDER" == stripe ]]; then
  "$target/frevix-stripe-standin" --listen 127.0.0.1:12111 \
    --webhook-url http://127.0.0.1:8080/webhooks/stripe --webhook-secret "$webhook_secret" \
    >"$LOGS/stripe-standin.log" 2>&1 &
  pids+=($!)
fi

common=(
  FREVIX_EVENTS__NATS_URL="$nats"
  FREVIX_MAIL__SMTP_URL=smtp://127.0.0.1:2525
  FREVIX_AUTH__JWKS_URL=http://127.0.0.1:50051/.well-known/jwks.json
  FREVIX_SERVER__CORS_ALLOWED_ORIGINS='[]'
  FREVIX_SERVER__TRUST_FORWARDED_FOR=true
  FREVIX_LOG_FORMAT=text
)
# What one service needs beyond its database: identity's master key (made
# once, kept with the data) and messaging's media directory.
extra() {
  case "$1" in
    identity) echo "FREVIX_IDENTITY__MASTER_KEY_FILE=$DIR/identity-master.key" ;;
    messaging) echo "FREVIX_MESSAGING__MEDIA__STORE_URL=file://$DIR/media" ;;
    payments)
      echo "FREVIX_PAYMENTS__PROVIDER=$PROVIDER"
      if [[ "$PROVIDER" == stripe ]]; then
        echo "FREVIX_PAYMENTS__STRIPE__API_BASE=http://127.0.0.1:12111/"
        echo "FREVIX_PAYMENTS__STRIPE__SECRET_KEY=sk_test_frevix_mesh"
        echo "FREVIX_PAYMENTS__STRIPE__PUBLISHABLE_KEY=pk_test_frevix_mesh"
        echo "FREVIX_PAYMENTS__STRIPE__WEBHOOK_SECRET=$webhook_secret"
        echo "FREVIX_PAYMENTS__STRIPE__RETURN_URL=http://127.0.0.1:8080/"
      fi
      ;;
  esac
}
listening=()
for line in "${services[@]}"; do
  name="${line% *}" port="${line#* }"
  upper="${name^^}"
  # shellcheck disable=SC2046
  env "${common[@]}" "FREVIX_${upper}__DATABASE__URL=${pg%/*}/${PREFIX}${name}" $(extra "$name") \
    "$bin" serve "$name" >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  listening+=("$name :$port")
done
.venv/bin/envoy -c gateway-envoy/envoy-mesh.yaml --log-level warn >"$LOGS/envoy.log" 2>&1 &
pids+=($!)

cat <<MSG
mesh: on 127.0.0.1: ${listening[*]}, Envoy :8080 (admin :9901), payments on $PROVIDER
mesh: mail is printed to $LOGS/mail.log; logs are in $LOGS
mesh: try  .venv/bin/grpcurl -plaintext 127.0.0.1:8080 frevix.marketplace.v1.MarketplaceService/ListCategories
mesh: Ctrl-C stops it all
MSG
wait -n "${pids[@]}" || true
echo "mesh: a process ended; see $LOGS"
