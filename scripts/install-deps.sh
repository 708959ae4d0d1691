#!/usr/bin/env bash
# Installs the system packages loza needs to build, test and sandbox tools (Debian).
set -euo pipefail
need=()
for p in libopenblas-dev libcurl4-openssl-dev bubblewrap unzip; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "system packages: ok"
