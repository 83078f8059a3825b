#!/usr/bin/env bash
# A private PostgreSQL server for the tests: `start` makes a new cluster in its own folder, listening
# on 127.0.0.1 only, on a free port, with a role `wadup` (password auth, CREATEDB) and writes
# .build/pgtest.env (WADUP_TEST_PG_PORT, WADUP_TEST_PG_PASSWORD, WADUP_TEST_PG_DIR); `stop` stops it
# and removes the folder. TLS is on, with a private CA in $DIR/tls: the server's certificate names
# only the host `wadup-test-server` (so verify-full to 127.0.0.1 fails and verify-ca passes), and
# the role `wadupcert` logs in with a client certificate (client.crt/client.key) and no password,
# into its own database `certdb`. PostgreSQL refuses to run as root, so the server runs as Debian's
# `postgres` user when the script runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_FILE=.build/pgtest.env
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_server() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop() {
  if [ -f "$ENV_FILE" ]; then
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    as_server "$BIN/pg_ctl" -D "$WADUP_TEST_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WADUP_TEST_PG_DIR" "$ENV_FILE"
  fi
}

case "${1:-}" in
start)
  stop
  mkdir -p .build
  dir=$(mktemp -d /tmp/wadup-pgtest.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  printf '%s\n' "$password" > "$dir/pw"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pw"
  as_server "$BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile="$dir/pw" -E UTF8 >/dev/null
  tls="$dir/tls"
  mkdir -p "$tls"
  (
    cd "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=WADUP test CA" -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=wadup-test-server" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName = DNS:wadup-test-server\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=wadupcert" -keyout client.key -out client.csr 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt 2>/dev/null
    chmod 600 ./*.key
  )
  [ "$(id -u)" -eq 0 ] && chown postgres: "$tls/server.key" "$tls/server.crt" "$tls/ca.crt"
  # Client-certificate logins for wadupcert, before the password lines initdb wrote.
  { echo "hostssl all wadupcert 127.0.0.1/32 cert"; cat "$dir/data/pg_hba.conf"; } > "$dir/hba" && cat "$dir/hba" > "$dir/data/pg_hba.conf"
  cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
ssl = on
ssl_cert_file = '$tls/server.crt'
ssl_key_file = '$tls/server.key'
ssl_ca_file = '$tls/ca.crt'
fsync = on
CONF
  as_server "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
  as_server "$BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE wadup LOGIN CREATEDB PASSWORD '$password'" -c "CREATE ROLE wadupcert LOGIN" -c "CREATE DATABASE certdb OWNER wadupcert" >/dev/null
  printf 'WADUP_TEST_PG_PORT=%s\nWADUP_TEST_PG_PASSWORD=%s\nWADUP_TEST_PG_DIR=%s\n' "$port" "$password" "$dir" > "$ENV_FILE"
  echo "pg-test-server: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
  ;;
stop)
  stop
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
