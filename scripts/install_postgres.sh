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
. "$(dirname "$0")/apt_install.sh"
apt_install install_postgres postgresql
echo "install_postgres: $(ls /usr/lib/postgresql/*/bin/postgres)"
