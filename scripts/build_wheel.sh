#!/usr/bin/env bash
# Build this project's wheel into OUT_DIR (default dist/) from a clean copy of the sources (a
# stale build/lib would leak into it), reproducibly (SOURCE_DATE_EPOCH): an unchanged source
# gives the same bytes. Used by scripts/wheelhouse.sh (the API image) and by the packaging test.
# Environment: UV (default .venv/bin/uv, else uv on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=$(realpath -m "${1:-dist}")
UV=${UV:-.venv/bin/uv}
[ -x "$UV" ] || UV=$(command -v uv) || { echo "build_wheel: uv not found" >&2; exit 1; }

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp pyproject.toml README.md "$src/"
tar -c --exclude=__pycache__ --exclude='*.pyc' price_alchemy | tar -x -C "$src"
rm -rf "$OUT_DIR"
SOURCE_DATE_EPOCH=315532800 "$UV" build --quiet --wheel --out-dir "$OUT_DIR" "$src"
echo "build_wheel: $(basename "$OUT_DIR"/*.whl)"
