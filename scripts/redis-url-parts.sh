# Sourced: sets REDIS_HOST and REDIS_PORT from REDIS_URL (default redis://127.0.0.1:6379/0).
_url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
_hostport="${_url#*://}"; _hostport="${_hostport#*@}"; _hostport="${_hostport%%/*}"
REDIS_HOST="${_hostport%%:*}"
REDIS_PORT="${_hostport##*:}"
if [ "$REDIS_PORT" = "$_hostport" ]; then REDIS_PORT=6379; fi
