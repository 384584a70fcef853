#!/bin/sh
# Run PostgreSQL in the foreground. On an empty data directory ($PGDATA) first create the cluster
# with the superuser POSTGRES_USER / POSTGRES_PASSWORD (scram-sha-256 over TCP; the local socket
# trusts, it is reachable only inside the container) and the databases in POSTGRES_DATABASES
# (space-separated). Later starts use the existing cluster as it is (the password is not reset).
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
POSTGRES_USER=${POSTGRES_USER:-postgres}
PGDATA=${PGDATA:-/var/lib/postgresql/data}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
        > /dev/null
    rm -f "$pwfile"
    printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
    printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    for db in ${POSTGRES_DATABASES:-}; do
        printf 'CREATE DATABASE "%s" OWNER "%s"\n' "$db" "$POSTGRES_USER"
    done | postgres --single -D "$PGDATA" -c listen_addresses='' postgres > /dev/null
    echo "postgres-entrypoint: created the cluster and databases: ${POSTGRES_DATABASES:-none}"
fi
exec postgres -D "$PGDATA"
