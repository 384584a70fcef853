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

. "$(dirname "$0")/apt_install.sh"
# podman's own recommends pull crun, slirp4netns, netavark/CNI plugins...; only what is needed:
# runc (runtime), conmon (pulled by podman), catatonit (--init), fuse-overlayfs is not needed
# as root on ext4/xfs (native overlay).
apt_install install_podman "${missing[@]}" catatonit containernetworking-plugins
echo "install_podman: $(podman --version), runc $(runc --version | head -n1 | awk '{print $3}')"
