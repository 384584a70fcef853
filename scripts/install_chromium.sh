#!/usr/bin/env bash
# Install headless Chromium from Debian's packages, once.
#
# Used by `make chromium` and so by `make test` (the seller page is tested in a real browser:
# Playwright drives /usr/bin/chromium; its own browser download cannot work without internet).
# Idempotent: does nothing when chromium is already on PATH. Needs root or sudo (apt-get).
set -euo pipefail

if command -v chromium > /dev/null 2>&1 || command -v chromium-browser > /dev/null 2>&1; then
    exit 0  # already installed
fi
. "$(dirname "$0")/apt_install.sh"
# fonts-liberation: text in screenshots renders with real glyphs rather than boxes
apt_install install_chromium chromium fonts-liberation
echo "install_chromium: $(chromium --version)"
