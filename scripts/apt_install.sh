#!/usr/bin/env bash
# Install a Debian package for tests or benchmarks unless its programs are already there.
#   scripts/apt_install.sh PACKAGE PROGRAM [PROGRAM...]   e.g. chromium /usr/bin/chromium
# Idempotent. Locally, where apt is unavailable (not Debian/Ubuntu, no root, no network) it says
# so and exits 0: the tests or benchmarks that need the program then skip, named in pytest's
# summary. With CI=true a failed install fails the build (exit 1): CI cannot go green by skipping.
set -u
PACKAGE="$1"
shift
give_up() {
    echo "apt_install: $1"
    if [ "${CI:-}" = "true" ]; then
        echo "apt_install: CI=true: failing instead of letting tests skip" >&2
        exit 1
    fi
    exit 0
}
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
    give_up "apt-get not available; install $PACKAGE yourself (what needs it will skip)"
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        give_up "not root; run 'apt-get install -y $PACKAGE' as root (what needs it will skip)"
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "$PACKAGE"; then
    if ! { $SUDO apt-get update -q && $SUDO apt-get install -y --no-install-recommends "$PACKAGE"; }; then
        give_up "apt-get could not install $PACKAGE (what needs it will skip)"
    fi
fi
if have_all "$@"; then
    echo "apt_install: installed $PACKAGE"
else
    give_up "apt-get finished but $* missing (what needs it will skip)"
fi
exit 0
