#!/usr/bin/env bash
# Starts a private Redis on 127.0.0.1 for tests and benchmarks; prints its URL.
# Idempotent: installs the Debian package only if missing, reuses a running server.
#   REDIS_PORT (default 56379), REDIS_DIR (default /tmp/harbin-redis)
# Usage: TEST_REDIS_URL=$(scripts/redis.sh)
set -euo pipefail

REDIS_PORT="${REDIS_PORT:-56379}"
REDIS_DIR="${REDIS_DIR:-/tmp/harbin-redis}"

if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing Redis from the Debian packages..." >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "Redis is not installed and this is not root: apt-get install redis-server" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq redis-server >&2
fi

mkdir -p "$REDIS_DIR"
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    # Loopback only, no persistence: throwaway state for tests.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
        --save "" --appendonly no --daemonize yes \
        --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >&2
    for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG
fi

echo "redis://127.0.0.1:$REDIS_PORT/0"
