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
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
  wait "${pids[@]}" 2>/dev/null || true
  [ "$started_redis" = started ] && scripts/stop-redis.sh
  exit 0
}
trap stop INT TERM EXIT
# A worker that retires itself (--max-jobs, --max-memory-mb) is started again; a worker
# that cannot start at all (a missing model) stops everything with its message.
(
  while true; do
    $PY manage.py asrworker ${WORKER_ARGS:-} || { echo "The worker could not start: see above." >&2; exit 1; }
    echo "Worker retired; starting a fresh one." >&2
  done
) &
pids+=($!)
# Webhook deliveries and their retries.
( while true; do $PY manage.py webhookworker || exit 1; done ) &
pids+=($!)
.venv/bin/daphne -b "$HOST" -p "$PORT" portal.asgi:application &
pids+=($!)
echo
echo "FunASR Portal: http://$HOST:$PORT/   (Ctrl-C stops it)"
$PY manage.py demo_admin
wait -n "${pids[@]}"
echo "A process exited; stopping the rest." >&2
