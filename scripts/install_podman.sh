#!/usr/bin/env bash
# Install podman (with the runc runtime) and debootstrap from Debian's packages, once.
#
# Used by `make podman` and so by `make test` (tests/test_docker_image.py builds and runs the
# API image with podman). Idempotent: when every tool is already on PATH it does nothing, and
# apt-get runs only for what is missing. Needs root (apt-get) on Debian/Ubuntu.
#
# Why runc: podman's default runtime (crun) fails on hybrid cgroup hosts like these machines;
# scripts/containers.conf selects runc and lowers the ulimits (point CONTAINERS_CONF at it).
set -euo pipefail

# command on PATH:Debian package that provides it
missing=()
for pair in podman:podman runc:runc debootstrap:debootstrap; do
    command -v "${pair%%:*}" > /dev/null 2>&1 || missing+=("${pair#*:}")
done
# debootstrap checks bookworm's signatures with Debian's keyring (absent on Ubuntu, say)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0  # already installed
fi

if ! command -v apt-get > /dev/null 2>&1; then
    echo "install_podman: apt-get not found; install by hand: ${missing[*]}" >&2
    exit 1
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo > /dev/null 2>&1 || {
        echo "install_podman: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    }
    SUDO=sudo
fi

echo "install_podman: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# an apt list older than a day may name package versions the mirror no longer has
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2> /dev/null)" ]; then
    $SUDO apt-get update -qq
fi
install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" > /dev/null; }
# podman's own recommends pull crun, slirp4netns, netavark/CNI plugins...; only what is needed:
# runc (runtime), conmon (pulled by podman), catatonit (--init), fuse-overlayfs is not needed
# as root on ext4/xfs (native overlay).
install "${missing[@]}" catatonit containernetworking-plugins || {
    $SUDO apt-get update -qq
    install "${missing[@]}" catatonit containernetworking-plugins
}
echo "install_podman: $(podman --version), runc $(runc --version | head -n1 | awk '{print $3}')"
