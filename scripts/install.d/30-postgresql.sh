#!/usr/bin/env bash
# PostgreSQL server programs (initdb, pg_ctl, postgres) for the collector's
# database tests.  The tests start their own cluster in a temp folder; this
# only makes sure Debian's package is there.  It may put the programs in
# /usr/lib/postgresql/<ver>/bin only: the tests look there too.
set -uo pipefail
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: no initdb and no apt-get: the PostgreSQL tests will be skipped" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
export DEBIAN_FRONTEND=noninteractive
# no system cluster: the tests make their own
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  $SUDO mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -q postgresql >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q postgresql >/dev/null; } \
  || echo "warning: could not install postgresql; the PostgreSQL tests will be skipped" >&2
exit 0
