#!/usr/bin/env bash
# Stop the redis-server that ensure-redis.sh started (and only that one).
root="$(cd "$(dirname "$0")/.." && pwd)"
pidfile="$root/var/redis/redis.pid"
[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
rm -f "$pidfile"
