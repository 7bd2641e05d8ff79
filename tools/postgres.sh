#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 (installing Debian's package if it
# is missing) and create database $2 in it. Usage:
#   tools/postgres.sh start PGDATA_DIR [DBNAME] [PORT]   → prints the SQLAlchemy URL
#   tools/postgres.sh stop PGDATA_DIR                     → stops it and deletes PGDATA
#   tools/postgres.sh halt PGDATA_DIR                     → stops it, keeps PGDATA (start reuses it)
set -euo pipefail
action=$1 pgdata=$2 dbname=${3:-lms_test} port=${4:-55432}
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUN_AS=(runuser -u postgres --)
fi
case "$action" in
  start)
    mkdir -p "$pgdata"
    [ "$(id -u)" = 0 ] && chown postgres "$pgdata"
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      "${RUN_AS[@]}" "$PGBIN/initdb" -D "$pgdata" -U lms -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdata -c max_connections=200" start >/dev/null
    if ! "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U lms -d postgres -tAc \
         "SELECT 1 FROM pg_database WHERE datname = '$dbname'" | grep -q 1; then
      "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U lms "$dbname"
    fi
    echo "postgresql+psycopg://lms@127.0.0.1:$port/$dbname"
    ;;
  stop)
    "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$pgdata"
    ;;
  halt)
    "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
