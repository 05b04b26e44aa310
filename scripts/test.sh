#!/usr/bin/env bash
# Run the whole suite (used by `make test`). Starts throwaway PostgreSQL and Redis where their
# binaries exist and points the tests at Chromium where it is installed. A missing service is one
# line of output and its tests are skipped, unless POLICYHUB_REQUIRE_SERVICES=1 (CI), where it fails.
set -euo pipefail
BIN=${BIN:-.venv/bin}
REQUIRE=${POLICYHUB_REQUIRE_SERVICES:-0}
TMP=$(mktemp -d -t policyhub-test.XXXXXX)
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

missing() {
  if [ "$REQUIRE" = "1" ]; then echo "ERROR: $1 (required in this mode)" >&2; exit 1; fi
  echo "Not found: $1 — its tests are skipped."
}

free_port() { "$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Redis: the broker for the worker tests; the fault tests start their own instances from this binary.
if command -v redis-server >/dev/null 2>&1; then
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
    --logfile "$TMP/redis.log" &
  redis_pid=$!
  for _ in $(seq 50); do
    "$BIN/python" -c "import redis,sys; redis.Redis(port=$port).ping()" 2>/dev/null && break
    sleep 0.1
  done
  export POLICYHUB_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  export POLICYHUB_REDIS_SERVER="$(command -v redis-server)"
  echo "Redis: throwaway server on port $port."
else
  missing "redis-server (Debian package redis-server)"
fi

# Chromium for the Playwright browser tests (Playwright's own browser download does not work here).
chromium_bin=${POLICYHUB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -n "$chromium_bin" ] && [ -x "$chromium_bin" ]; then
  export POLICYHUB_CHROMIUM="$chromium_bin"
  echo "Chromium: $chromium_bin."
else
  missing "chromium (Debian package chromium)"
fi

# Two pytest-xdist workers by default (the CI machine has two cores); PYTEST_WORKERS=0 runs serially.
# --dist loadgroup: tests marked xdist_group("name") all run in one worker, one after another (see
# docs/notes/speed.md); the rest are shared out test by test. A -n in the arguments wins.
WORKERS=${PYTEST_WORKERS:-2}
export WORKERS

run_pytest() {
  local xdist=()
  if [ "$WORKERS" != "0" ]; then xdist=(-n "$WORKERS" --dist loadgroup); fi
  set +e
  "$BIN/pytest" "${xdist[@]}" "$@"
  status=$?
  set -e
  if [ "$status" = "5" ]; then echo "ERROR: pytest ran no test." >&2; fi
  return "$status"
}

# PostgreSQL: pg_virtualenv (postgresql-common) runs a throwaway cluster, even as root.
if [ -z "${DATABASE_URL:-}" ] && command -v pg_virtualenv >/dev/null 2>&1; then
  echo "PostgreSQL: throwaway cluster from pg_virtualenv."
  export -f run_pytest
  export BIN
  set +e
  pg_virtualenv -t -o fsync=off -o synchronous_commit=off -o full_page_writes=off bash -c 'export DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:${PGPORT:-5432}/${PGDATABASE:-postgres}"; run_pytest "$@"' _ "$@"
  exit $?
elif [ -n "${DATABASE_URL:-}" ]; then
  echo "PostgreSQL: using DATABASE_URL from the environment."
else
  missing "pg_virtualenv (Debian package postgresql): tests run on SQLite"
fi
run_pytest "$@"
