#!/usr/bin/env bash
# Make sure a PostgreSQL answers on 127.0.0.1:5432 for the test suite's PostgreSQL pass.
# If none does and we are root on Debian, install and start the distribution's cluster and
# give the postgres role the password "postgres" (the URL .ci/run uses).
set -euo pipefail
answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if answers; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "No PostgreSQL on 127.0.0.1:5432. Install one with:  sudo apt-get install postgresql" >&2
  exit 1
fi
if ! command -v pg_ctlcluster >/dev/null; then
  echo "Installing PostgreSQL (Debian package)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
fi
version="$(ls /etc/postgresql | sort -n | tail -1)"
pg_ctlcluster "$version" main start || true
for _ in $(seq 50); do answers && break; sleep 0.2; done
answers || { echo "PostgreSQL did not start." >&2; exit 1; }
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" >&2
