#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the report page test (tests/test_report.py).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never fails the build:
# where apt is unavailable (not Debian/Ubuntu, no root, no network) it says so and exits 0,
# and the browser test then skips with that reason.
set -u

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "install_chromium: $CHROMIUM already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: apt-get not available; install Chromium yourself (the report browser test will skip)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install_chromium: not root and no password-less sudo; run 'apt-get install -y chromium' as root (the report browser test will skip)"
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium; then
    # The package lists may be missing or stale (fresh containers ship without them).
    if ! { $SUDO apt-get update -q && $SUDO apt-get install -y --no-install-recommends chromium; }; then
        echo "install_chromium: apt-get could not install chromium; the report browser test will skip"
        exit 0
    fi
fi

if [ -x "$CHROMIUM" ]; then
    echo "install_chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
    echo "install_chromium: apt-get finished but $CHROMIUM is missing; the report browser test will skip"
fi
exit 0
