#!/usr/bin/env bash
# Start a throwaway redis-server (Debian's package) on a free loopback port for trying `[state] backend = "redis"`:
# no persistence, its files in a temporary folder, stopped with Ctrl-C (or when this script is killed).
# Usage: bash scripts/redis_dev.sh [PORT]     (prints the [state] table to paste into promptls.toml)
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis_dev: redis-server is not installed (as root: apt-get install redis-server)" >&2
  exit 1
fi
port=${1:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
dir=$(mktemp -d "${TMPDIR:-/tmp}/promptls-redis.XXXXXX")
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no \
  --loglevel warning &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
for _ in $(seq 1 100); do
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "redis_dev: redis-server did not start" >&2; exit 1; fi
  sleep 0.1
done
redis-cli -p "$port" ping | grep -q PONG || { echo "redis_dev: no PONG from port $port" >&2; exit 1; }
echo "redis_dev: $(redis-server --version | cut -d' ' -f1-3) on 127.0.0.1:$port (pid $pid, Ctrl-C stops it)"
cat <<TOML
# promptls.toml
[state]
backend = "redis"
url = "redis://127.0.0.1:$port/0"
TOML
wait "$pid"
