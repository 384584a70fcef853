#!/usr/bin/env bash
# Create .venv-bqemulator/ (the BigQuery emulator's own venv) from requirements-bqemulator.txt.
#
# The emulator (PyPI bqemulator) cannot share .venv: its fastapi and sqlglot pins conflict with
# Airflow's. It runs as a separate process started by tests/bigquery_emulator.py.
#
# Idempotent: does nothing when the venv already matches the requirements file (a stamp in the
# venv records the file's sha256). Needs only python3.11 and uv (the one in .venv by default).
# Environment: PYTHON (a python3.11), UV (a uv binary), BQEMULATOR_VENV (target directory).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=requirements-bqemulator.txt
VENV_DIR=${BQEMULATOR_VENV:-.venv-bqemulator}
UV=${UV:-.venv/bin/uv}
PYTHON=${PYTHON:-$(command -v python3.11 || true)}
STAMP="$VENV_DIR/.installed"

if ! [ -x "$UV" ]; then
    UV=$(command -v uv || true)
    [ -n "$UV" ] || { echo "install_bqemulator: uv not found (run 'make install' first)" >&2; exit 1; }
fi
if [ -z "$PYTHON" ] && [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python  # uv resolves it to the base interpreter of .venv
fi
[ -n "$PYTHON" ] || { echo "install_bqemulator: python3.11 not found; set PYTHON=" >&2; exit 1; }

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV_DIR/bin/python" ]; then
    exit 0  # up to date
fi

if ! [ -x "$VENV_DIR/bin/python" ]; then
    "$UV" venv --quiet --python "$PYTHON" --python-preference only-system "$VENV_DIR"
fi
"$VENV_DIR/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "install_bqemulator: $VENV_DIR is not Python 3.11; remove it and set PYTHON=" >&2
    exit 1
}
# sync (not install): the venv holds exactly the pinned set, nothing left over from older pins.
"$UV" pip sync --quiet --python "$VENV_DIR/bin/python" "$REQUIREMENTS"
"$VENV_DIR/bin/python" -c 'import bqemulator, numpy, duckdb' || {
    echo "install_bqemulator: import check failed in $VENV_DIR" >&2
    exit 1
}
echo "$want" > "$STAMP"
echo "install_bqemulator: $VENV_DIR ready ($("$VENV_DIR/bin/python" -c \
    'import importlib.metadata as m; print("bqemulator", m.version("bqemulator"))'))"
