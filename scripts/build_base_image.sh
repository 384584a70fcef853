#!/usr/bin/env bash
# Build a local stand-in for `python:3.11-slim`: Debian bookworm (minbase) with its Python 3.11
# and venv, imported into podman as localhost/pa-base:bookworm (or $BASE_IMAGE).
#
# These machines cannot pull from any container registry, but Debian's package mirror is
# reachable, so the base is made with debootstrap; docker/Dockerfile then builds on it with
# `--build-arg BASE_IMAGE=localhost/pa-base:bookworm`. Cached: does nothing when the image
# exists and was made by this very recipe (a label holds the script's sha256).
#
# Needs root, podman and debootstrap (scripts/install_podman.sh). Environment: BASE_IMAGE (tag),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR, CONTAINERS_CONF.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${BASE_IMAGE:-localhost/pa-base:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}
# python3-venv brings ensurepip (pip's wheel) so `python3 -m venv` works as in python:3.11-slim
PACKAGES=python3,python3-venv,ca-certificates,tzdata
RECIPE=$( (cat "$0"; echo "$PACKAGES") | sha256sum | cut -c1-16)

for tool in podman debootstrap; do
    command -v "$tool" > /dev/null || {
        echo "build_base_image: $tool not found: run scripts/install_podman.sh (make podman)" >&2
        exit 1
    }
done
if podman image exists "$BASE_IMAGE" \
    && [ "$(podman image inspect --format '{{ index .Labels "pa.base.recipe" }}' "$BASE_IMAGE")" \
        = "$RECIPE" ]; then
    exit 0  # up to date
fi

start=$(date +%s)
rootfs=$(mktemp -d /var/tmp/pa-base-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "build_base_image: debootstrap bookworm (minbase + $PACKAGES) from $DEBIAN_MIRROR"
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$rootfs" "$DEBIAN_MIRROR" \
    > "$rootfs.log" 2>&1 || {
    tail -n 30 "$rootfs.log" >&2
    rm -f "$rootfs.log"
    exit 1
}
rm -f "$rootfs.log"

# slim it the way the official slim images are: no package caches, docs, man pages, locales
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old "$rootfs"/tmp/*
find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' \
    -exec rm -rf {} + 2> /dev/null || true
find "$rootfs"/usr/lib/python3* -name '__pycache__' -type d -prune -exec rm -rf {} +
# `python` as in python:3.11-slim
ln -sf python3 "$rootfs"/usr/bin/python
# apt sources as in debian:bookworm-slim (the Dockerfile installs libgomp1 with apt)
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
    "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" "$security" > "$rootfs"/etc/apt/sources.list

tar --numeric-owner -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change "LABEL pa.base.recipe=$RECIPE" \
    --message "debootstrap bookworm minbase + $PACKAGES" \
    --quiet - "$BASE_IMAGE" > /dev/null
size=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | numfmt --to=si)
echo "build_base_image: $BASE_IMAGE built in $(($(date +%s) - start)) s ($size)"
