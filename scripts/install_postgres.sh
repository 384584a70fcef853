#!/usr/bin/env bash
# Install PostgreSQL's server from Debian's packages, once.
#
# Used by `make postgres` and so by `make test` (tests/postgres_server.py starts a throw-away
# server on loopback for the prediction log's Postgres tests and stops it by PID). Idempotent:
# does nothing when initdb is on PATH or in /usr/lib/postgresql/*/bin. Needs root (apt-get).
set -euo pipefail

if command -v initdb > /dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    exit 0  # already installed
fi
if ! command -v apt-get > /dev/null 2>&1; then
    echo "install_postgres: apt-get not found; install PostgreSQL's server by hand" >&2
    exit 1
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo > /dev/null 2>&1 || {
        echo "install_postgres: need root (or sudo) to install postgresql" >&2
        exit 1
    }
    SUDO=sudo
fi
echo "install_postgres: installing postgresql"
export DEBIAN_FRONTEND=noninteractive
install() { $SUDO apt-get install -y -qq --no-install-recommends postgresql > /dev/null; }
install || { $SUDO apt-get update -qq && install; }
echo "install_postgres: $(ls /usr/lib/postgresql/*/bin/postgres)"
