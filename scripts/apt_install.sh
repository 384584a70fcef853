# Sourced by the install_*.sh scripts: `apt_install WHO PACKAGE...` installs Debian packages
# with apt-get, as root or through sudo, refreshing apt's lists first when they are over a day
# old (they may name versions the mirror no longer has) and once more if the install fails.
# WHO prefixes the messages. Returns non-zero, saying why, when it cannot install.
apt_install() {
    local who=$1 sudo=
    shift
    if ! command -v apt-get > /dev/null 2>&1; then
        echo "$who: apt-get not found; install by hand: $*" >&2
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo > /dev/null 2>&1 || {
            echo "$who: need root (or sudo) to install: $*" >&2
            return 1
        }
        sudo=sudo
    fi
    echo "$who: installing $*"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2> /dev/null)" ]; then
        $sudo apt-get update -qq
    fi
    $sudo apt-get install -y -qq --no-install-recommends "$@" > /dev/null || {
        $sudo apt-get update -qq
        $sudo apt-get install -y -qq --no-install-recommends "$@" > /dev/null
    }
}
