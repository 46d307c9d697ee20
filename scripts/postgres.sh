#!/usr/bin/env bash
# Starts a private PostgreSQL cluster on 127.0.0.1 for tests and benchmarks; prints its URL.
# Idempotent: installs the Debian packages only if missing, reuses a running cluster.
#   PG_PORT (default 55432), PG_DIR (default /tmp/harbin-pg), PG_DB (default harbin)
# Usage: TEST_DATABASE_URL=$(scripts/postgres.sh)
set -euo pipefail

PG_PORT="${PG_PORT:-55432}"
PG_DIR="${PG_DIR:-/tmp/harbin-pg}"
PG_DB="${PG_DB:-harbin}"

pg_bin() {
    # Debian keeps the server binaries out of PATH, one folder per major version.
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    echo "$found"
}

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    echo "installing PostgreSQL from the Debian packages..." >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is not installed and this is not root: apt-get install postgresql" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi
BIN="$(pg_bin)"

# initdb refuses to run as root: use the postgres account the package created.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
OWNER=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un)

mkdir -p "$PG_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
DATA="$PG_DIR/data"
if [ ! -f "$DATA/PG_VERSION" ]; then
    # C locale: byte order like SQLite, so ORDER BY on text agrees on both databases.
    as_owner "$BIN/initdb" -D "$DATA" -U "$OWNER" --auth=trust -E UTF8 --locale=C >&2
fi

if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    # Loopback only, socket in the data dir (no root-owned /var/run needed), no fsync:
    # a throwaway test cluster, speed over durability.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-h 127.0.0.1 -p $PG_PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >&2
fi

if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$OWNER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$OWNER" "$PG_DB" >&2
fi

echo "postgresql+asyncpg://$OWNER@127.0.0.1:$PG_PORT/$PG_DB"
