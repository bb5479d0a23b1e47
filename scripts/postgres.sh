#!/usr/bin/env bash
# A throwaway PostgreSQL for the market's tests and benchmark, on 127.0.0.1 only.
#
#   eval "$(bash scripts/postgres.sh)"    # install if missing, start, export NUAGE_TEST_POSTGRES_URL
#   bash scripts/postgres.sh stop         # stop the cluster (its files stay, for a quick restart)
#   bash scripts/postgres.sh destroy      # stop it and delete its files
#
# Idempotent: Debian's postgresql is installed (as root, through apt) only when no server
# binaries are found; the cluster is created once, started when not running, and the test role
# and database are created when missing. The only line on stdout is the `export` line, so the
# script can be eval'ed; everything else goes to stderr.
#
# Environment:
#   NUAGE_PG_DIR    the cluster's directory [default: ~/.cache/nuage/postgres]
#   NUAGE_PG_PORT   its TCP port on 127.0.0.1 [default: 55432; any free port when taken by
#                   something else]
#
# The cluster trusts connections from this machine's own user account over its Unix socket
# (in NUAGE_PG_DIR) and asks for the test role's password over TCP. It holds test data only.
set -euo pipefail

PG_DIR="${NUAGE_PG_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nuage/postgres}"
PG_PORT="${NUAGE_PG_PORT:-55432}"
ROLE="nuage_test"
PASSWORD="nuage_test"
DATABASE="nuage_test"

log() { printf 'postgres: %s\n' "$*" >&2; }
die() { printf 'postgres: error: %s\n' "$*" >&2; exit 1; }

server_bin() {
    # the newest installed server's bin directory (Debian keeps each major version apart)
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        printf '%s\n' "$dir"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

install_server() {
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed; as root: apt-get install postgresql"
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get"
    log "installing Debian's postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
}

# as root the server must run as an unprivileged user: Debian's package creates `postgres`
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_is_free() {
    python3 - "$1" <<'EOF'
import socket, sys
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
EOF
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

BIN="$(server_bin)"
if [[ -z "$BIN" ]]; then
    install_server
    BIN="$(server_bin)"
    [[ -n "$BIN" ]] || die "postgresql was installed but initdb is nowhere to be found"
fi
PG_CTL="$BIN/pg_ctl"

running() { [[ -f "$PG_DIR/data/PG_VERSION" ]] && as_owner "$PG_CTL" -D "$PG_DIR/data" status >/dev/null 2>&1; }

case "${1:-start}" in
    start) ;;
    stop)
        if running; then as_owner "$PG_CTL" -D "$PG_DIR/data" -m fast stop >&2; fi
        exit 0
        ;;
    destroy)
        if running; then as_owner "$PG_CTL" -D "$PG_DIR/data" -m fast stop >&2; fi
        rm -rf "$PG_DIR"
        exit 0
        ;;
    *) die "usage: $0 [start|stop|destroy]" ;;
esac

mkdir -p "$PG_DIR"
if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$PG_DIR"
    # postgres must be able to reach its directory through the parents (e.g. /root)
    parent="$(dirname "$PG_DIR")"
    while [[ "$parent" != / ]]; do
        chmod o+x "$parent" 2>/dev/null || true
        parent="$(dirname "$parent")"
    done
fi

if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
    log "creating a cluster in $PG_DIR/data"
    as_owner "$BIN/initdb" -D "$PG_DIR/data" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || die "initdb failed: $(tail -n 5 "$PG_DIR/initdb.log")"
fi

if running; then
    PG_PORT="$(sed -n 4p "$PG_DIR/data/postmaster.pid")"
    log "already running on 127.0.0.1:$PG_PORT"
else
    if ! port_is_free "$PG_PORT"; then
        PG_PORT="$(free_port)"
    fi
    log "starting on 127.0.0.1:$PG_PORT (log: $PG_DIR/server.log)"
    as_owner "$PG_CTL" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2 || die "the server did not start: $(tail -n 5 "$PG_DIR/server.log")"
fi

psql_admin() { as_owner "$BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]]; then
    log "creating role $ROLE"
    psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]]; then
    log "creating database $DATABASE"
    psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2
fi

URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PG_PORT/$DATABASE"
export NUAGE_TEST_POSTGRES_URL="$URL"
log "ready: NUAGE_TEST_POSTGRES_URL=$URL"
printf 'export NUAGE_TEST_POSTGRES_URL=%q\n' "$URL"
