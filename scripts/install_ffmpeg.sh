#!/usr/bin/env bash
# Install Debian's ffmpeg CLI (ffmpeg + ffprobe), the speed baseline of `make bench`.
# Idempotent: does nothing when both are already on PATH. Never fails the build: where apt
# is unavailable (not Debian/Ubuntu, no root, no network) it says so and exits 0, and the
# benchmarks then skip their ffmpeg/ffprobe baselines with a note.
set -u

if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
    echo "install_ffmpeg: already installed ($(ffmpeg -version 2>/dev/null | head -n 1))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_ffmpeg: apt-get not available; install ffmpeg yourself (the bench skips its ffmpeg baselines)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install_ffmpeg: not root and no password-less sudo; run 'apt-get install -y ffmpeg' as root (the bench skips its ffmpeg baselines)"
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends ffmpeg; then
    # The package lists may be missing or stale (fresh containers ship without them).
    if ! { $SUDO apt-get update -q && $SUDO apt-get install -y --no-install-recommends ffmpeg; }; then
        echo "install_ffmpeg: apt-get could not install ffmpeg; the bench skips its ffmpeg baselines"
        exit 0
    fi
fi

if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
    echo "install_ffmpeg: installed $(ffmpeg -version 2>/dev/null | head -n 1)"
else
    echo "install_ffmpeg: apt-get finished but ffmpeg/ffprobe are missing; the bench skips its ffmpeg baselines"
fi
exit 0
