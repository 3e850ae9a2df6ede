#!/usr/bin/env bash
# Keep one worker running: scripts/supervise.sh NAME COMMAND (one shell command line). Used by
# serve.sh, which starts it in a process group of its own. SIGTERM, SIGINT or SIGHUP: passed on
# to the worker, which is waited for (RQ's warm shutdown lets a running job finish); then exit 0.
#
# The rules (docs/deploy.md, "Supervision"):
# - exit 0: the worker retired itself (--max-jobs, --max-memory-mb): a fresh one starts at once.
# - any other exit, or a signal (a segfault): it starts again after a delay of 1 s, doubling up to
#   SERVE_MAX_BACKOFF (30 s); the delay goes back to 1 s after a run of SERVE_STABLE_SECONDS (60).
# - it cannot start at all: its first SERVE_START_TRIES (3) runs all failed, each within
#   SERVE_READY_SECONDS (10) of starting (a missing model: CommandError at once). Then this script
#   exits 3, and serve.sh stops everything. A worker that has once run SERVE_READY_SECONDS, or
#   retired itself, is never given up on: it is restarted with the delays above for as long as
#   serve.sh runs.
set -uo pipefail
name="$1" command="$2"
ready_s="${SERVE_READY_SECONDS:-10}"
stable_s="${SERVE_STABLE_SECONDS:-60}"
tries="${SERVE_START_TRIES:-3}"
max_delay="${SERVE_MAX_BACKOFF:-30}"

say() { echo "[serve] $*" >&2; }
now_ms() { local us="${EPOCHREALTIME//[!0-9]/}"; echo $((us / 1000)); }
describe() { # an exit status, in words
  if [ "$1" -gt 128 ]; then
    echo "was killed by signal SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo '?') ($(($1 - 128)))"
  else
    echo "exited with code $1"
  fi
}

child="" stopping=0
on_signal() {
  stopping=1
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; fi
}
trap on_signal TERM INT HUP

# Waits for $child; a signal interrupts `wait`, so wait again while the child is still there.
wait_child() {
  local rc
  while :; do
    wait "$child" 2>/dev/null # (bash would also report a signal, as "line N: Segmentation fault")
    rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  child=""
  [ "$stopping" = 1 ] && exit 0
  return "$rc"
}
pause() { # sleep, but stop at once when told to
  sleep "$1" &
  child=$!
  wait_child
}

ever_ready=0 failures=0 delay=1
while :; do
  started=$(now_ms)
  bash -c "$command" &
  child=$!
  [ "$stopping" = 1 ] && kill -TERM "$child" 2>/dev/null
  wait_child
  rc=$?
  ran_ms=$(($(now_ms) - started))
  ran="$((ran_ms / 1000)) s"
  if [ "$rc" = 0 ]; then
    ever_ready=1 failures=0 delay=1
    say "The $name retired itself after $ran; starting a fresh one."
    [ "$ran_ms" -lt $((ready_s * 1000)) ] && pause 1 # no busy loop (e.g. WORKER_ARGS=--burst)
    continue
  fi
  [ "$ran_ms" -ge $((ready_s * 1000)) ] && ever_ready=1
  [ "$ran_ms" -ge $((stable_s * 1000)) ] && failures=0 delay=1
  failures=$((failures + 1))
  if [ "$ever_ready" = 0 ] && [ "$failures" -ge "$tries" ]; then
    say "The $name could not start: it failed $failures times in a row, each time within ${ready_s} s" \
      "(the last one $(describe "$rc")); see its messages above."
    exit 3
  fi
  say "The $name $(describe "$rc") after $ran; restarting it in $delay s (failure $failures in a row)."
  pause "$delay"
  delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
done
