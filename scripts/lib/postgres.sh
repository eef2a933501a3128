# shellcheck shell=bash
# Throwaway PostgreSQL clusters for tests, benchmarks and dbt runs. Source this file, then:
#
#   pg_start_cluster        # starts a cluster; sets PG_URL, PG_HOST, PG_PORT, PG_USER, PG_PASSWORD, PG_DIR
#   trap pg_stop_cluster EXIT
#
# pg_start_cluster is pg_init_cluster + pg_server_start; pg_server_stop / pg_server_start [tcp|socket-only]
# restart the server on the same data, port and socket (scripts/pg-cluster drives them from tests).
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

# Runs a command (or function) with no file descriptors open but 0, 1 and 2 (Linux; elsewhere as is). The
# server pg_ctl starts outlives its caller and must not hold the caller's descriptors: Foundation's Process,
# for one, reports a child's exit only once a descriptor it gave the child is closed everywhere.
pg_without_inherited_fds() {
  (
    local fd
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [[ $fd =~ ^[0-9]+$ && $fd -gt 2 ]]; then eval "exec $fd>&-"; fi
    done
    "$@"
  )
}

pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_display_url() {
  printf 'postgres://%s@%s:%s/postgres\n' "$PG_USER" "$PG_HOST" "$PG_PORT"
}

pg_start_cluster() {
  pg_init_cluster || return 1
  pg_server_start tcp || return 1
  PG_URL="postgres://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/postgres?sslmode=disable"
  export PG_URL
  pg_log "postgresql $("$PG_BIN/postgres" --version | awk '{print $3}') ready at $(pg_display_url) (data in $PG_DIR)"
}

# Creates a cluster (initdb) without starting it; sets PG_DIR, PG_HOST, PG_PORT, PG_USER, PG_PASSWORD, PG_BIN
# and writes them, except the password, to $PG_DIR/cluster.env (pg_load_cluster reads it back).
pg_init_cluster() {
  pg_ensure_installed || return 1
  PG_BIN=$(pg_bin_dir)
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi

  PG_DIR=$(mktemp -d /tmp/driftwatch-pg.XXXXXX) || return 1
  PG_HOST=127.0.0.1
  PG_USER=postgres
  PG_PORT=$(pg_free_port) || return 1
  PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(24))') || return 1
  mkdir -p "$PG_DIR/data" "$PG_DIR/socket" || return 1
  (umask 077 && printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile") || return 1
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$PG_DIR" || return 1; fi
  printf 'PG_BIN=%q\nPG_HOST=%q\nPG_PORT=%q\nPG_USER=%q\n' "$PG_BIN" "$PG_HOST" "$PG_PORT" "$PG_USER" \
    >"$PG_DIR/cluster.env" || return 1

  if ! pg_as_owner "$PG_BIN/initdb" --pgdata="$PG_DIR/data" --username="$PG_USER" --pwfile="$PG_DIR/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    pg_log "error: initdb failed:"
    cat "$PG_DIR/initdb.log" >&2
    return 1
  fi
  rm -f "$PG_DIR/pwfile"
  export PG_DIR PG_HOST PG_PORT PG_USER PG_PASSWORD PG_BIN
}

# Sets PG_DIR, PG_BIN, PG_HOST, PG_PORT and PG_USER from a cluster made by pg_init_cluster (not the password).
pg_load_cluster() {
  local dir=$1
  if [[ -z "$dir" || ! -f "$dir/cluster.env" ]]; then
    pg_log "error: $dir is not a cluster directory made by pg_init_cluster (no cluster.env)"
    return 1
  fi
  # shellcheck source=/dev/null
  source "$dir/cluster.env"
  PG_DIR=$dir
  export PG_DIR PG_HOST PG_PORT PG_USER PG_BIN
}

# Starts the server of the cluster in PG_DIR and waits until it accepts connections. Its unix socket is
# always in $PG_DIR/socket; `tcp` (the default) also listens on PG_HOST:PG_PORT, `socket-only` does not
# listen on TCP at all (the same port number names the socket file). Durability settings are off: throwaway data.
pg_server_start() {
  local mode=${1:-tcp} listen ready_host
  case "$mode" in
    tcp) listen=$PG_HOST ready_host=$PG_HOST ;;
    socket-only) listen="''" ready_host=$PG_DIR/socket ;;
    *)
      pg_log "error: pg_server_start: mode must be tcp or socket-only, not $mode"
      return 1
      ;;
  esac
  if ! pg_without_inherited_fds pg_as_owner "$PG_BIN/pg_ctl" --pgdata="$PG_DIR/data" --log="$PG_DIR/server.log" \
    --wait --timeout=60 \
    -o "-c listen_addresses=$listen -p $PG_PORT -k $PG_DIR/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >"$PG_DIR/pg_ctl.log" 2>&1; then
    pg_log "error: postgresql did not start:"
    cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2 || true
    return 1
  fi
  if ! pg_as_owner "$PG_BIN/pg_isready" -h "$ready_host" -p "$PG_PORT" -t 30 >/dev/null; then
    pg_log "error: postgresql started but is not accepting connections:"
    cat "$PG_DIR/server.log" >&2 || true
    return 1
  fi
}

# Stops the server of the cluster in PG_DIR (fast shutdown: sessions are terminated); keeps the data.
pg_server_stop() {
  if ! pg_as_owner "$PG_BIN/pg_ctl" --pgdata="$PG_DIR/data" --mode=fast --wait --timeout=30 \
    stop >"$PG_DIR/pg_ctl.log" 2>&1; then
    pg_log "error: postgresql did not stop:"
    cat "$PG_DIR/pg_ctl.log" >&2 || true
    return 1
  fi
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
