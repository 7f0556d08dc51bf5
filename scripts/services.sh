#!/usr/bin/env bash
# Start (or stop) throwaway Redis, PostgreSQL and S3 (moto) servers on loopback for the
# tests. `source scripts/services.sh start` exports the TALECAST_TEST_* URLs.
set -euo pipefail
SERVICES_DIR=${SERVICES_DIR:-/tmp/talecast-services}
REDIS_PORT=${REDIS_PORT:-6391}
PG_PORT=${PG_PORT:-55433}
S3_PORT=${S3_PORT:-5055}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

services_start() {
  services_stop  # servers an earlier start left running would lose their folders
  rm -rf "$SERVICES_DIR"; mkdir -p "$SERVICES_DIR"; chmod 755 "$SERVICES_DIR"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" \
    --logfile "$SERVICES_DIR/redis.log"
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  export TALECAST_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

  if [ -n "$PG_BIN" ]; then
    mkdir -p "$SERVICES_DIR/pg"; chown postgres:postgres "$SERVICES_DIR/pg" 2>/dev/null || true
    local as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$SERVICES_DIR/pg" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -l "$SERVICES_DIR/pg/server.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $PG_PORT -k $SERVICES_DIR/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE talecast LOGIN CREATEDB PASSWORD 'talecast'" -c "CREATE DATABASE talecast OWNER talecast" >/dev/null
    export TALECAST_TEST_DATABASE_URL="postgresql+psycopg://talecast:talecast@127.0.0.1:$PG_PORT/talecast"
  fi

  if [ -x .venv/bin/moto_server ]; then
    .venv/bin/moto_server -H 127.0.0.1 -p "$S3_PORT" >"$SERVICES_DIR/moto.log" 2>&1 &
    echo $! > "$SERVICES_DIR/moto.pid"
    for _ in $(seq 100); do curl -s "http://127.0.0.1:$S3_PORT" >/dev/null 2>&1 && break; sleep 0.1; done
    export TALECAST_TEST_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
  fi
}

services_stop() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  if [ -n "$PG_BIN" ] && [ -d "$SERVICES_DIR/pg" ]; then
    local as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$SERVICES_DIR/moto.pid" ]; then
    local moto; moto=$(cat "$SERVICES_DIR/moto.pid")
    kill "$moto" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$moto" 2>/dev/null || break; sleep 0.1; done
  fi
}

case "${1:-}" in
  start) services_start ;;
  stop) services_stop ;;
  *) echo "usage: source scripts/services.sh start|stop" >&2 ;;
esac
