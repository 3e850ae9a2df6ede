#!/usr/bin/env bash
# Exit 0 if a Redis answers PING at REDIS_URL. Needs nothing but bash.
. "$(dirname "$0")/redis-url-parts.sh"
exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" 2>/dev/null || exit 1
printf 'PING\r\n' >&3
read -r -t 3 reply <&3 || exit 1
[[ "$reply" == +PONG* || "$reply" == -NOAUTH* ]]
