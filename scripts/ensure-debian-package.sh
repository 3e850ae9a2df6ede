#!/usr/bin/env bash
# Install a Debian package when we are root, or print the command that would.
set -euo pipefail
pkg="$1"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" \
    || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg"; }
else
  echo "Missing the Debian package $pkg. Install it with:  sudo apt-get install $pkg" >&2
  exit 1
fi
