#!/usr/bin/env bash
# setup.sh: installs the Debian packages Ablate builds against (run as root or with sudo available).
set -euo pipefail

PACKAGES=(libzmq3-dev libhdf5-dev libopenblas-dev pkg-config)

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift toolchain (6.x) is required and was not found on PATH" >&2
    exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
