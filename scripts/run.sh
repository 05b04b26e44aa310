#!/usr/bin/env bash
# Serve PolicyHub with a real Celery worker and beat beside the web server (used by `make run`).
# Each process is started through its own Makefile target, so `make run`, the Makefile and
# docker-compose.yml run the same commands.
set -euo pipefail
set -m  # every background job gets its own process group, so we can stop it whole
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
MAKE=${MAKE:-make}
# Seconds the processes get to finish what they are doing after Ctrl-C, before they are killed.
STOP_GRACE=${STOP_GRACE:-8}
pids=()
names=()
# The processes still running, by name ("worker beat").
left() {
  local i out=()
  for i in "${!pids[@]}"; do kill -0 -- "-${pids[$i]}" 2>/dev/null && out+=("${names[$i]}"); done
  echo "${out[*]}"
}
running() { [ -n "$(left)" ]; }
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  # The worker finishes the task in hand (one at a time, see CELERY_WORKER_POOL); anything still
  # running after the grace period is killed. Tasks are acknowledged late, so a killed task is
  # delivered again on the next start, and the minute sweeps catch up on anything missed.
  local waited=0
  while running && [ "$waited" -lt $((STOP_GRACE * 10)) ]; do sleep 0.1; waited=$((waited + 1)); done
  if running; then
    echo "Still running after ${STOP_GRACE}s: killing $(left)." >&2
    for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  fi
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Check the port before starting anything, so a busy port is one clear line, not a login URL that
# does not work followed by runserver's traceback.
if ! "$BIN/python" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$PORT"; then
  echo "Port $PORT is already in use (another PolicyHub or program is serving on it)." >&2
  echo "Stop it, or choose another port: make run PORT=8101" >&2
  trap - EXIT INT TERM
  exit 1
fi

echo "Database: ${DATABASE_URL:-SQLite (embedded, var/policyhub.sqlite3)}"
echo "Broker:   ${CELERY_BROKER_URL:-filesystem:// (embedded, var/celery/broker)}"
$MAKE --no-print-directory worker &
pids+=($!) names+=(worker)
$MAKE --no-print-directory beat &
pids+=($!) names+=(beat)
# Prove the worker delivers: a task with a 5-second countdown; the worker logs "Celery heartbeat ran".
"$BIN/python" manage.py send_heartbeat --countdown 5
echo "PolicyHub: http://127.0.0.1:${PORT}/accounts/login/"
$MAKE --no-print-directory web PORT="$PORT" &
pids+=($!) names+=(web)
wait -n "${pids[@]}"
