#!/usr/bin/env bash
# Install what the production stack (docker/compose.yaml, `make stack-up`) needs beyond podman
# itself (scripts/install_podman.sh) and the venv's podman-compose: name resolution between the
# stack's containers on its own network (`postgres`, `redis`, `mlflow`, ...). With podman's CNI
# network backend (Debian bookworm's podman 4.3) that is the dnsname plugin (it runs a dnsmasq per
# network, stopped when the network is removed); with netavark it is aardvark-dns.
#
# Idempotent: does nothing when the plugin is there. Needs root (apt-get) on Debian/Ubuntu.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}

command -v podman > /dev/null || {
    echo "stack_install: podman not found: run scripts/install_podman.sh (make podman)" >&2
    exit 1
}
backend=$(podman info --format '{{.Host.NetworkBackend}}' 2> /dev/null || echo cni)
missing=()
if [ "$backend" = netavark ]; then
    [ -x /usr/lib/podman/aardvark-dns ] || command -v aardvark-dns > /dev/null \
        || missing+=(aardvark-dns)
else
    [ -x /usr/lib/cni/dnsname ] || [ -x /opt/cni/bin/dnsname ] \
        || missing+=(golang-github-containernetworking-plugin-dnsname)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0  # already installed
fi
. scripts/apt_install.sh
apt_install stack_install "${missing[@]}"
echo "stack_install: installed ${missing[*]} (DNS for podman's $backend networks)"
