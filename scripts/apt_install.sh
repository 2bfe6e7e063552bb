#!/usr/bin/env bash
# Install a Debian package for tests or benchmarks unless its programs are already there.
#   scripts/apt_install.sh PACKAGE PROGRAM [PROGRAM...]   e.g. chromium /usr/bin/chromium
# Idempotent, and never fails the build: where apt is unavailable (not Debian/Ubuntu, no root,
# no network) it says so and exits 0; the tests or benchmarks that need the program then skip
# with that reason.
set -u
PACKAGE="$1"
shift
have_all() {
    for program in "$@"; do
        command -v "$program" >/dev/null 2>&1 || return 1
    done
}
if have_all "$@"; then
    echo "apt_install: $PACKAGE already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt_install: apt-get not available; install $PACKAGE yourself (what needs it will skip)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "apt_install: not root; run 'apt-get install -y $PACKAGE' as root (what needs it will skip)"
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "$PACKAGE"; then
    if ! { $SUDO apt-get update -q && $SUDO apt-get install -y --no-install-recommends "$PACKAGE"; }; then
        echo "apt_install: apt-get could not install $PACKAGE (what needs it will skip)"
        exit 0
    fi
fi
if have_all "$@"; then
    echo "apt_install: installed $PACKAGE"
else
    echo "apt_install: apt-get finished but $* missing (what needs it will skip)"
fi
exit 0
