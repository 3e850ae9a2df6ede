#!/usr/bin/env bash
# Serve the portal (daphne) with one ASR worker; Ctrl-C stops both, and the Redis we
# started if there was none.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
started_redis="$(scripts/ensure-redis.sh)"
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  [ "$started_redis" = started ] && scripts/stop-redis.sh
  exit 0
}
trap stop INT TERM EXIT
$PY manage.py asrworker &
pids+=($!)
.venv/bin/daphne -b "$HOST" -p "$PORT" portal.asgi:application &
pids+=($!)
echo
echo "FunASR Portal: http://$HOST:$PORT/   (Ctrl-C stops it)"
$PY manage.py demo_admin
wait -n "${pids[@]}"
echo "A process exited; stopping the rest." >&2
