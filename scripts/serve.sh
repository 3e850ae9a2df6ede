#!/usr/bin/env bash
# Serve the portal (daphne) with one ASR worker, the live captioning worker, the webhook worker and the LLM worker (summaries). A worker that dies is
# restarted (scripts/supervise.sh has the rules); one that cannot start at all (a missing model)
# stops everything, with its message. Ctrl-C or SIGTERM stops every process started here, and
# the Redis we started if there was none. See docs/deploy.md, "Supervision".
#
# Each command is one shell command line, overridable (the tests put small stand-ins there):
# SERVE_WORKER_CMD, SERVE_STREAM_CMD (live captions; empty: none), SERVE_WEBHOOK_CMD, SERVE_LLM_CMD,
# SERVE_WEB_CMD, SERVE_ADMIN_CMD (prints the demo admin).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PY=.venv/bin/python
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
worker_cmd="${SERVE_WORKER_CMD:-$PY manage.py asrworker ${WORKER_ARGS:-}}"
stream_cmd="${SERVE_STREAM_CMD-$PY manage.py asrstream ${STREAM_ARGS:-}}"
webhook_cmd="${SERVE_WEBHOOK_CMD:-$PY manage.py webhookworker}"
llm_cmd="${SERVE_LLM_CMD:-$PY manage.py llmworker}"
web_cmd="${SERVE_WEB_CMD:-.venv/bin/daphne -b $(printf %q "$HOST") -p $(printf %q "$PORT") portal.asgi:application}"
admin_cmd="${SERVE_ADMIN_CMD:-$PY manage.py demo_admin}"
stop_seconds="${SERVE_STOP_SECONDS:-10}" # then SIGKILL

# Each piece runs in a session and process group of its own (setsid), so that stopping it reaches
# its children too, and Ctrl-C at the terminal reaches only this script, which stops them in
# order. With setpriv --pdeathsig they get SIGTERM even if this script is killed outright.
detach=(setsid)
if setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then detach=(setsid setpriv --pdeathsig TERM); fi
declare -A name_of=() # process group id (= its leader's pid) -> what it runs
start() {
  "${detach[@]}" "${@:2}" &
  name_of[$!]="$1"
}

now_ms() { local us="${EPOCHREALTIME//[!0-9]/}"; echo $((us / 1000)); }
alive() { # is anything left in one of our process groups?
  local pgid
  for pgid in "${!name_of[@]}"; do kill -0 -- "-$pgid" 2>/dev/null && return 0; done
  return 1
}

force=0
stop_all() { # stop_all STATUS: TERM each leader, wait up to stop_seconds, KILL what is left; exit.
  trap 'force=1' INT TERM HUP # a second Ctrl-C: do not wait
  trap - EXIT
  local pgid deadline=$(($(now_ms) + stop_seconds * 1000))
  for pgid in "${!name_of[@]}"; do kill -TERM "$pgid" 2>/dev/null; done
  while [ "$force" = 0 ] && [ "$(now_ms)" -lt "$deadline" ] && alive; do
    # A leader that is gone may leave children behind (a worker's decoder): TERM them too.
    for pgid in "${!name_of[@]}"; do
      kill -0 "$pgid" 2>/dev/null || kill -TERM -- "-$pgid" 2>/dev/null
    done
    sleep 0.2
  done
  if alive; then
    echo "[serve] Killing what did not stop within $stop_seconds s (SERVE_STOP_SECONDS)." >&2
    for pgid in "${!name_of[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null; done
  fi
  wait 2>/dev/null
  if [ "$started_redis" = started ]; then scripts/stop-redis.sh; fi
  exit "$1"
}
# shellcheck disable=SC2317 # called from the trap below
interrupted() {
  echo
  echo "Stopping... (up to $stop_seconds s for running jobs to finish; Ctrl-C again to stop at once)"
  stop_all 0
}
started_redis=""
trap interrupted INT TERM HUP
trap 'stop_all 1' EXIT
started_redis="$(scripts/ensure-redis.sh)" || exit 1

start "the ASR worker" scripts/supervise.sh "ASR worker" "$worker_cmd"
if [ -n "$stream_cmd" ]; then start "the live captioning worker" scripts/supervise.sh "live captioning worker" "$stream_cmd"; fi
start "the webhook worker" scripts/supervise.sh "webhook worker" "$webhook_cmd"
start "the LLM worker" scripts/supervise.sh "LLM worker" "$llm_cmd"
start "the web server" bash -c "$web_cmd"
echo
echo "FunASR Portal: http://$HOST:$PORT/   (Ctrl-C stops it)"
bash -c "$admin_cmd" || echo "[serve] Could not print the demo admin: see above." >&2

# Until one of them ends for good: the web server, or a worker that could not start.
while :; do
  exited=""
  wait -n -p exited "${!name_of[@]}"
  status=$?
  [ -n "$exited" ] && break
done
case "${name_of[$exited]}:$status" in
  "the web server:"*) echo "[serve] The web server exited (status $status); stopping everything." >&2 ;;
  *:3) echo "[serve] Stopping everything." >&2 ;; # the worker said why
  *) echo "[serve] ${name_of[$exited]} stopped (status $status); stopping everything." >&2 ;;
esac
stop_all 1
