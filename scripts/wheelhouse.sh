#!/usr/bin/env bash
# Fill the wheelhouse that docker/Dockerfile installs from, so the image build needs no network:
#   build/wheelhouse/deps/     wheels of every pin in requirements-serving.txt (Linux x86_64,
#                              CPython 3.11, glibc <= 2.36: Debian bookworm, python:3.11-slim)
#   build/wheelhouse/project/  this project's wheel (price_alchemy), built from a clean copy
#   build/wheelhouse/platform/ with `wheelhouse.sh platform` only: requirements.txt and the
#                              Postgres driver, for the image of the whole stack (Airflow, MLflow)
#
# Cached: the dependency wheels are downloaded again only when their requirements change
# (a stamp holds their sha256); the project wheel is rebuilt every time but reproducibly
# (SOURCE_DATE_EPOCH), so an unchanged source gives the same bytes and the image layer that
# installs it stays cached. build/ is git-ignored. Environment: WHEELHOUSE (default
# build/wheelhouse), PYTHON (a python with pip; default .venv/bin/python), UV (default .venv/bin/uv).
set -euo pipefail
cd "$(dirname "$0")/.."

WHEELHOUSE=${WHEELHOUSE:-build/wheelhouse}
PYTHON=${PYTHON:-.venv/bin/python}
UV=${UV:-.venv/bin/uv}
REQUIREMENTS=requirements-serving.txt
# manylinux tags a glibc 2.36 system accepts (pip does not expand `manylinux_2_X` by itself)
PLATFORMS=(manylinux2014_x86_64 manylinux2010_x86_64 manylinux1_x86_64)
for minor in $(seq 36 -1 5); do PLATFORMS+=("manylinux_2_${minor}_x86_64"); done
TARGET="--python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none"

[ -x "$PYTHON" ] || { echo "wheelhouse: $PYTHON not found (run 'make install')" >&2; exit 1; }
[ -x "$UV" ] || UV=$(command -v uv) || { echo "wheelhouse: uv not found" >&2; exit 1; }
mkdir -p "$WHEELHOUSE"

# fill DIR with the wheels of REQUIREMENTS... (pip arguments), unless its stamp says it has them
fill() {
    local dir="$WHEELHOUSE/$1" want fresh start platform
    shift
    want=$( (cat "$@"; echo "${PLATFORMS[*]} $TARGET") | sha256sum | cut -c1-64)
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
        echo "wheelhouse: $dir up to date ($(find "$dir" -name '*.whl' | wc -l) wheels)"
        return
    fi
    start=$(date +%s)
    fresh=$(mktemp -d "$dir.XXXXXX")
    local platform_args=()
    for platform in "${PLATFORMS[@]}"; do platform_args+=(--platform "$platform"); done
    # --no-deps: the requirements are a complete lock; binary wheels only, for the image's
    # platform whatever the host's
    # shellcheck disable=SC2086
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: $TARGET "${platform_args[@]}" -d "$fresh" "${@/#/-r}" \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) \
        || { rm -rf "$fresh"; echo "wheelhouse: download failed" >&2; return 1; }
    echo "$want" > "$fresh/.stamp"
    rm -rf "$dir"
    mv "$fresh" "$dir"
    echo "wheelhouse: $(find "$dir" -name '*.whl' | wc -l) wheels in $dir" \
        "($(du -sh "$dir" | cut -f1)) in $(($(date +%s) - start)) s"
}

fill deps "$REQUIREMENTS"
if [ "${1:-}" = platform ]; then
    # the whole system (Airflow, MLflow server, training) for docker/compose.yaml: requirements.txt
    # plus the Postgres driver pinned in requirements-serving.txt
    pins=$(mktemp)
    grep -E '^psycopg(-binary)?==' "$REQUIREMENTS" > "$pins"
    fill platform requirements.txt "$pins"
    rm -f "$pins"
fi

# the project wheel, from a clean copy of the sources
UV="$UV" bash scripts/build_wheel.sh "$WHEELHOUSE/project"
