# shellcheck shell=bash
# Throwaway PostgreSQL clusters for tests, benchmarks and dbt runs. Source this file, then:
#
#   pg_start_cluster        # starts a cluster; sets PG_URL, PG_HOST, PG_PORT, PG_USER, PG_PASSWORD, PG_DIR
#   trap pg_stop_cluster EXIT
#
# The cluster listens on 127.0.0.1 only, on a free port, with its unix socket inside PG_DIR (a mktemp
# directory under /tmp) and scram-sha-256 authentication for superuser `postgres` with a random password.
# As root it runs as the OS user `postgres` (via runuser); otherwise as the current user.
# PG_URL is postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres?sslmode=disable: do not print it.
# pg_display_url prints the same URL without the password.

pg_log() { printf '%s\n' "$*" >&2; }

# Newest PostgreSQL bin directory under /usr/lib/postgresql, or nothing.
pg_bin_dir() {
  local initdb
  initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$initdb" ]] && dirname "$initdb"
  return 0
}

# Installs PostgreSQL from Debian's packages when no initdb is found (root only).
pg_ensure_installed() {
  if [[ -n "$(pg_bin_dir)" ]]; then return 0; fi
  if [[ $(id -u) -ne 0 ]]; then
    pg_log "error: postgresql server binaries not found under /usr/lib/postgresql/*/bin."
    pg_log "install them (Debian/Ubuntu: sudo apt-get install -y postgresql) and run this again."
    return 1
  fi
  pg_log "postgresql not found: installing it with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
  if [[ -z "$(pg_bin_dir)" ]]; then
    pg_log "error: apt-get installed postgresql but no initdb was found under /usr/lib/postgresql/*/bin"
    return 1
  fi
}

# Runs a command as the cluster's OS user.
pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_display_url() {
  printf 'postgres://%s@%s:%s/postgres\n' "$PG_USER" "$PG_HOST" "$PG_PORT"
}

pg_start_cluster() {
  pg_ensure_installed
  local bin
  bin=$(pg_bin_dir)
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi

  PG_DIR=$(mktemp -d /tmp/driftwatch-pg.XXXXXX)
  PG_HOST=127.0.0.1
  PG_USER=postgres
  PG_PORT=$(pg_free_port)
  PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  mkdir -p "$PG_DIR/data" "$PG_DIR/socket"
  (umask 077 && printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile")
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$PG_DIR"; fi

  if ! pg_as_owner "$bin/initdb" --pgdata="$PG_DIR/data" --username="$PG_USER" --pwfile="$PG_DIR/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    pg_log "error: initdb failed:"
    cat "$PG_DIR/initdb.log" >&2
    return 1
  fi
  rm -f "$PG_DIR/pwfile"

  # Throwaway data: durability settings off for speed.
  if ! pg_as_owner "$bin/pg_ctl" --pgdata="$PG_DIR/data" --log="$PG_DIR/server.log" --wait --timeout=60 \
    -o "-c listen_addresses=$PG_HOST -p $PG_PORT -k $PG_DIR/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >"$PG_DIR/pg_ctl.log" 2>&1; then
    pg_log "error: postgresql did not start:"
    cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2 || true
    return 1
  fi
  if ! pg_as_owner "$bin/pg_isready" -h "$PG_HOST" -p "$PG_PORT" -t 30 >/dev/null; then
    pg_log "error: postgresql started but is not accepting connections:"
    cat "$PG_DIR/server.log" >&2 || true
    return 1
  fi
  PG_BIN=$bin
  PG_URL="postgres://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/postgres?sslmode=disable"
  export PG_DIR PG_HOST PG_PORT PG_USER PG_PASSWORD PG_URL PG_BIN
  pg_log "postgresql $("$bin/postgres" --version | awk '{print $3}') ready at $(pg_display_url) (data in $PG_DIR)"
}

# Stops the cluster started by pg_start_cluster and removes its directory. Safe to call twice.
pg_stop_cluster() {
  if [[ -z "${PG_DIR:-}" || ! -d "$PG_DIR" ]]; then return 0; fi
  if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
    if ! pg_as_owner "${PG_BIN:-$(pg_bin_dir)}/pg_ctl" --pgdata="$PG_DIR/data" --mode=fast --wait --timeout=30 \
      stop >/dev/null 2>&1; then
      local pid
      pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)
      if [[ -n "$pid" ]]; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
  fi
  rm -rf "$PG_DIR"
  PG_DIR=
}
