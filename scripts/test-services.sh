#!/usr/bin/env bash
# Makes sure the PostgreSQL and NATS JetStream that the tests need are answering,
# and prints `export` lines for the test environment on stdout (all else on stderr):
#
#   eval "$(scripts/test-services.sh)"     start or reuse, then export
#   scripts/test-services.sh stop          stop only what this script started
#   scripts/test-services.sh restart-pg    restart the private PostgreSQL (fast shutdown)
#   scripts/test-services.sh restart-nats  restart the private NATS (its store kept)
#
# The machine's own services (127.0.0.1:5432, 127.0.0.1:4222) are used when they
# answer; otherwise private ones are started under target/test-services/ and reused
# by later runs.
#
# Env overrides:
#   FREVIX_PG_PORT_CHECK    port probed for an existing Postgres (default 5432)
#   FREVIX_NATS_PORT_CHECK  port probed for an existing NATS (default 4222)
#   FREVIX_PG_PORT          port of the private Postgres (default 55432)
#   FREVIX_NATS_PORT        port of the private NATS (default 54222)
#   FREVIX_TEST_SERVICES_DIR  where the private servers live (default target/test-services)
# Point a *_CHECK at an unused port to force the private server.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${FREVIX_TEST_SERVICES_DIR:-$REPO/target/test-services}"
PG_CHECK_PORT="${FREVIX_PG_PORT_CHECK:-5432}"
NATS_CHECK_PORT="${FREVIX_NATS_PORT_CHECK:-4222}"
PG_PORT="${FREVIX_PG_PORT:-55432}"
NATS_PORT="${FREVIX_NATS_PORT:-54222}"
PG_DIR="$STATE/pg"
PG_DATA="$PG_DIR/data"
NATS_DIR="$STATE/nats"
NATS_PID="$NATS_DIR/nats-server.pid"
NATS_LOG="$NATS_DIR/nats-server.log"

log() { printf 'test-services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Runs "$@" with every inherited fd above 2 closed (call it in a subshell), so a
# server that outlives us holds no pipe or lock of whoever started us: a caller's
# $(...) or a CI runner reading our output would otherwise wait for the server.
without_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd"/*; do
    fd="${fd##*/}"
    # (some listed fds, like the glob's own, are gone by now: ignore those)
    if (( fd > 2 )); then { eval "exec $fd>&-"; } 2>/dev/null || true; fi
  done
  "$@"
}

# ---------- PostgreSQL ----------

pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n "$d" && -x "$d/initdb" ]] && printf '%s\n' "$d"
}

# Runs a command as the cluster's owner: initdb and postgres refuse to run as root.
as_pg() {
  if [[ $EUID -ne 0 ]]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
  fi
}

# True when a trust login as postgres works on the port (so the URL we export works),
# not merely when something listens there.
pg_answers() {
  local port="$1" bindir psql_bin
  bindir="$(pg_bindir || true)"
  psql_bin="$(command -v psql || true)"
  [[ -z "$psql_bin" && -n "$bindir" ]] && psql_bin="$bindir/psql"
  if [[ -n "$psql_bin" && -x "$psql_bin" ]]; then
    [[ "$(PGCONNECT_TIMEOUT=3 "$psql_bin" -w -h 127.0.0.1 -p "$port" -U postgres -d postgres \
          -Atqc 'select 1' </dev/null 2>/dev/null || true)" == 1 ]]
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 3 -h 127.0.0.1 -p "$port" -U postgres </dev/null
  else
    return 1
  fi
}

ensure_pg_installed() {
  pg_bindir >/dev/null && return
  [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed and not running; install Debian's postgresql"
  log "installing PostgreSQL from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >&2
  apt-get install -y -qq --no-install-recommends postgresql </dev/null >&2
  pg_bindir >/dev/null || die "apt installed postgresql but no initdb under /usr/lib/postgresql"
}

start_private_pg() {
  ensure_pg_installed
  local bin
  bin="$(pg_bindir)"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 \
      || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  # A Unix socket path is limited to ~107 bytes: a deep clone gets one under /tmp.
  local sock="$PG_DIR"
  (( ${#sock} <= 80 )) || sock="/tmp/frevix-test-pg-$PG_PORT"
  mkdir -p "$PG_DIR" "$sock"
  [[ $EUID -eq 0 ]] && chown postgres: "$PG_DIR" "$sock"
  as_pg test -w "$PG_DIR" \
    || die "the postgres user cannot write $PG_DIR (a parent directory is not traversable)"

  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    log "initdb $PG_DATA"
    rm -rf "$PG_DATA"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C \
      </dev/null >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  # Socket outside /var/run so we never clash with the system cluster's.
  # fsync off: test data is disposable and this makes schema setup much faster.
  log "starting private PostgreSQL on 127.0.0.1:$PG_PORT"
  ( exec </dev/null >&2; without_fds as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
    start ) || { tail -n 30 "$PG_DIR/postgres.log" >&2 || true; die "PostgreSQL did not start"; }
  for _ in $(seq 1 60); do
    pg_answers "$PG_PORT" && return
    sleep 0.5
  done
  die "PostgreSQL on port $PG_PORT started but does not answer"
}

stop_private_pg() {
  [[ -f "$PG_DATA/postmaster.pid" ]] || return 0
  local bin
  bin="$(pg_bindir || true)"
  [[ -n "$bin" ]] || return 0
  log "stopping private PostgreSQL"
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop </dev/null >&2 || true
}

# ---------- NATS ----------

# A NATS server greets every client with an INFO line whose JSON says whether
# JetStream is on, so no monitoring port (often disabled) is needed to tell.
nats_js_answers() {
  local port="$1" info
  info="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r line <&3 && printf "%s" "$line"' \
          _ "$port" 2>/dev/null || true)"
  [[ "$info" == INFO* && "$info" == *'"jetstream":true'* ]]
}

nats_bin() {
  if [[ -x "$REPO/.venv/bin/nats-server" ]]; then
    printf '%s\n' "$REPO/.venv/bin/nats-server"
  else
    command -v nats-server || true
  fi
}

start_private_nats() {
  local bin
  bin="$(nats_bin)"
  [[ -n "$bin" ]] || die "no nats-server binary (scripts/tools.sh installs one)"
  mkdir -p "$NATS_DIR"
  log "starting private NATS JetStream on 127.0.0.1:$NATS_PORT"
  # setsid: its own session, so the caller's Ctrl-C or job control doesn't kill it.
  ( exec </dev/null >>"$NATS_LOG" 2>&1
    without_fds setsid "$bin" -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$NATS_DIR" -P "$NATS_PID" \
      -l "$NATS_LOG" ) &
  for _ in $(seq 1 60); do
    nats_js_answers "$NATS_PORT" && return
    sleep 0.25
  done
  tail -n 30 "$NATS_LOG" >&2 || true
  die "NATS on port $NATS_PORT did not come up"
}

stop_private_nats() {
  [[ -f "$NATS_PID" ]] || return 0
  local pid
  pid="$(cat "$NATS_PID")"
  # Only signal the pid if it is still our nats-server, not a recycled pid.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
     && grep -qa nats-server "/proc/$pid/cmdline" 2>/dev/null; then
    log "stopping private NATS (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$NATS_PID"
}

# ---------- main ----------

emit() { printf 'export %s=%q\n' "$1" "$2"; }

mkdir -p "$STATE"
# Serialise concurrent runs so two callers don't both initdb or start a server.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE/.lock"
  flock 9
fi

case "${1:-start}" in
  stop)
    stop_private_nats
    stop_private_pg
    exit 0
    ;;
  restart-pg)
    # pg_ctl restart keeps the options of the last start (postmaster.opts).
    ( exec </dev/null >&2; without_fds as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 \
      -l "$PG_DIR/postgres.log" restart ) || die "PostgreSQL did not restart"
    exit 0
    ;;
  restart-nats)
    stop_private_nats
    start_private_nats
    exit 0
    ;;
  start) ;;
  *) die "usage: $0 [start|stop|restart-pg|restart-nats]" ;;
esac

# The venv gives the tests Python with aiosmtpd and a current nats-server.
"$REPO/scripts/tools.sh" >&2

if pg_answers "$PG_CHECK_PORT"; then
  log "using PostgreSQL on 127.0.0.1:$PG_CHECK_PORT"
  emit FREVIX_TEST_DATABASE_URL "postgres://postgres@127.0.0.1:$PG_CHECK_PORT/postgres"
else
  if pg_answers "$PG_PORT"; then
    log "reusing private PostgreSQL on 127.0.0.1:$PG_PORT"
  else
    start_private_pg
  fi
  emit FREVIX_TEST_DATABASE_URL "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
fi

if nats_js_answers "$NATS_CHECK_PORT"; then
  log "using NATS JetStream on 127.0.0.1:$NATS_CHECK_PORT"
  emit FREVIX_TEST_NATS_URL "nats://127.0.0.1:$NATS_CHECK_PORT"
else
  if nats_js_answers "$NATS_PORT"; then
    log "reusing private NATS on 127.0.0.1:$NATS_PORT"
  else
    start_private_nats
  fi
  emit FREVIX_TEST_NATS_URL "nats://127.0.0.1:$NATS_PORT"
fi

bin="$(nats_bin)"
[[ -n "$bin" ]] && emit FREVIX_TEST_NATS_SERVER_BIN "$bin"
emit FREVIX_TEST_PYTHON "$REPO/.venv/bin/python"
emit FREVIX_TEST_ENVOY_BIN "$REPO/.venv/bin/envoy"
