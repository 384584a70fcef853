#!/usr/bin/env bash
# Build the production stack's four images locally with podman, all on one base image
# ($BASE_IMAGE, default localhost/pa-base:bookworm: scripts/build_base_image.sh), no registry:
#   localhost/price-alchemy-platform  Airflow (CeleryExecutor), the MLflow server, the DAGs
#   localhost/price-alchemy-api       the API
#   localhost/price-alchemy-postgres  PostgreSQL 15 from Debian's packages
#   localhost/price-alchemy-redis     redis-server from Debian's packages
# Python packages come from the wheelhouse (scripts/wheelhouse.sh platform, cached); Debian's
# mirror is reached for postgresql, redis-server and libgomp1. Unchanged inputs reuse podman's
# layer cache, so a warm run takes seconds. Prints each build's time.
# Environment: BASE_IMAGE, CONTAINERS_CONF, IMAGE_PREFIX (default localhost/price-alchemy).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}
BASE_IMAGE=${BASE_IMAGE:-localhost/pa-base:bookworm}
PREFIX=${IMAGE_PREFIX:-localhost/price-alchemy}
LOG_DIR=build/stack
mkdir -p "$LOG_DIR"

podman image exists "$BASE_IMAGE" || {
    echo "stack_images: $BASE_IMAGE missing: run make base-image" >&2
    exit 1
}
start=$(date +%s)
bash scripts/wheelhouse.sh platform
echo "stack_images: wheelhouse ready in $(($(date +%s) - start)) s"

# build NAME CONTEXT [podman build arguments...]
build() {
    local name=$1 context=$2 began log
    shift 2
    began=$(date +%s)
    log="$LOG_DIR/build-$name.log"
    podman build --format docker --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        -t "$PREFIX-$name:latest" "$@" "$context" > "$log" 2>&1 || {
        tail -n 40 "$log" >&2
        echo "stack_images: the $name image failed to build (log: $log)" >&2
        return 1
    }
    echo "stack_images: $PREFIX-$name:latest in $(($(date +%s) - began)) s" \
        "($(podman image inspect --format '{{.Size}}' "$PREFIX-$name:latest" | numfmt --to=si))"
}

build postgres docker/postgres
build redis docker/redis
build platform . -f docker/Dockerfile --target platform
build api . -f docker/Dockerfile --target api
echo "stack_images: all built in $(($(date +%s) - start)) s"
