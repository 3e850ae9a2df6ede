#!/usr/bin/env bash
# Make sure a Redis answers at REDIS_URL. If none does, start a local redis-server
# (installing Debian's package first when we are root), daemonized, with its pid in var/.
# Prints "started" on stdout when it started one, so callers can stop it afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
. "$here/redis-url-parts.sh"

if "$here/redis-answers.sh"; then exit 0; fi
case "$REDIS_HOST" in 127.0.0.1|localhost) ;; *)
  echo "No Redis answers at $REDIS_HOST:$REDIS_PORT (REDIS_URL), and it is not local: start it there." >&2; exit 1;;
esac
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing redis-server (Debian package)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2; }
  else
    echo "Redis is not installed. Install it with:  sudo apt-get install redis-server" >&2
    exit 1
  fi
fi
mkdir -p "$root/var/redis"
echo "Starting redis-server on port $REDIS_PORT (data in var/redis)..." >&2
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$root/var/redis" \
  --pidfile "$root/var/redis/redis.pid" --logfile "$root/var/redis/redis.log" >&2
for _ in $(seq 50); do "$here/redis-answers.sh" && { echo started; exit 0; }; sleep 0.1; done
echo "redis-server did not start: see var/redis/redis.log" >&2
exit 1
