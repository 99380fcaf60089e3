#!/usr/bin/env bash
# Make a local PostgreSQL available for the server tests and print its SQLAlchemy URL.
#
#   export SIEE_TEST_PG_URL="$(scripts/ensure_postgres.sh)"
#
# As root on Debian/Ubuntu: installs the postgres group of scripts/debian-packages.txt
# with apt-get if missing, starts a cluster, creates the role and database
# siee_test, and prints
#   postgresql+psycopg://siee_test:PASSWORD@127.0.0.1:PORT/siee_test
# PORT is SIEE_TEST_PG_PORT when set; otherwise the port of this system's first
# cluster, moved to the next free port from 5432 when another program holds its
# port and the cluster is not running (a chroot shares the host's network: the
# host's PostgreSQL may already listen on 5432).
# Not root, not Debian, or anything fails: prints nothing and exits 0 (the
# postgres tests are then deselected locally; in CI they fail loudly).
set -u

DB=siee_test
ROLE=siee_test
PASS=${SIEE_TEST_PG_PASSWORD:-siee_test_pw}
PORT=${SIEE_TEST_PG_PORT:-}
here=$(cd "$(dirname "$0")" && pwd)

log() { echo "ensure_postgres: $*" >&2; }

port_busy() {  # something accepts TCP connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {  # the first port from $1 on where nothing listens
    local p=$1
    while port_busy "$p"; do p=$((p + 1)); done
    echo "$p"
}

wait_ready() {
    local i
    for i in $(seq 1 30); do
        su postgres -c "psql -p $PORT -tAc 'select 1'" >/dev/null 2>&1 && return 0
        sleep 1
    done
    return 1
}

make_role_and_db() {
    local psql="psql -p $PORT -v ON_ERROR_STOP=1 -tA"
    if [ "$(su postgres -c "$psql -c \"select 1 from pg_roles where rolname='$ROLE'\"")" != "1" ]; then
        su postgres -c "$psql -c \"create role $ROLE login password '$PASS'\"" >/dev/null \
            || return 1
    else
        su postgres -c "$psql -c \"alter role $ROLE login password '$PASS'\"" >/dev/null \
            || return 1
    fi
    if [ "$(su postgres -c "$psql -c \"select 1 from pg_database where datname='$DB'\"")" != "1" ]; then
        su postgres -c "$psql -c \"create database $DB owner $ROLE\"" >/dev/null || return 1
    fi
}

same_server() {  # the TCP address the tests use reaches the cluster of the local socket
    local q="select pg_postmaster_start_time()" here there
    here=$(su postgres -c "psql -p $PORT -tAc '$q'" 2>/dev/null)
    there=$(PGPASSWORD=$PASS psql -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -tAc "$q" \
        2>/dev/null)
    [ -n "$here" ] && [ "$here" = "$there" ]
}

main() {
    [ "$(id -u)" = "0" ] || { log "not root, skipping"; return 1; }
    cd / || return 1  # `su postgres` may not enter the caller's folder (e.g. under /root)
    if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || { log "no postgresql and no apt-get"; return 1; }
        local pkgs
        pkgs=$(awk '$1 == "postgres" { print $2 }' "$here/debian-packages.txt")
        log "installing $pkgs"
        apt-get update -qq >/dev/null 2>&1 || return 1
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 \
            || return 1
    fi

    if command -v pg_lsclusters >/dev/null 2>&1; then
        local line ver name status
        if [ -n "$PORT" ]; then
            line=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$PORT" '$3 == p' | head -n1)
        else
            line=$(pg_lsclusters --no-header 2>/dev/null | head -n1)
        fi
        if [ -z "$line" ]; then
            ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
            [ -n "$PORT" ] || PORT=$(free_port 5432)
            log "creating cluster $ver/main on port $PORT"
            pg_createcluster "$ver" main --port "$PORT" >/dev/null 2>&1 || return 1
            line=$(pg_lsclusters --no-header | awk -v p="$PORT" '$3 == p' | head -n1)
        fi
        ver=$(echo "$line" | awk '{print $1}')  # (ver, name: used after the start too)
        name=$(echo "$line" | awk '{print $2}')
        PORT=$(echo "$line" | awk '{print $3}')
        status=$(echo "$line" | awk '{print $4}')
        if [ "$status" != "online" ] && port_busy "$PORT"; then
            # not ours: another PostgreSQL (the host's, seen from a chroot) holds it
            local port
            port=$(free_port "$((PORT + 1))")
            log "port $PORT is taken by another program: cluster $ver/$name moves to $port"
            pg_conftool "$ver" "$name" set port "$port" >/dev/null 2>&1 || return 1
            PORT=$port
        fi
        if [ "$status" != "online" ]; then
            log "starting cluster $ver/$name"
            pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 \
                || service postgresql start >/dev/null 2>&1 || return 1
        fi
    else
        PORT=${PORT:-5432}
        service postgresql start >/dev/null 2>&1 || return 1
    fi

    wait_ready || return 1
    make_role_and_db || return 1
    if [ -n "${ver:-}" ] && ! same_server; then
        # 127.0.0.1:PORT answers with another server: ours started on ::1 only (in a
        # chroot, beside a host PostgreSQL that holds 127.0.0.1:PORT). Move ours.
        local port
        port=$(free_port "$((PORT + 1))")
        log "127.0.0.1:$PORT is another PostgreSQL: cluster $ver/$name moves to $port"
        pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1
        pg_conftool "$ver" "$name" set port "$port" >/dev/null 2>&1 || return 1
        PORT=$port
        pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 || return 1
        wait_ready || return 1
        make_role_and_db || return 1
        same_server || { log "127.0.0.1:$PORT does not reach cluster $ver/$name"; return 1; }
    fi
    echo "postgresql+psycopg://$ROLE:$PASS@127.0.0.1:$PORT/$DB"
}

out=$(main) && [ -n "$out" ] && echo "$out"
exit 0
