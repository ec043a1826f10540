#!/usr/bin/env bash
# Install JupyterHub's proxy, configurable-http-proxy from npm (the versions in
# tools/hub_proxy/package-lock.json), for the teacher's hub test and bench/bench_hub.py:
#
#   bash tools/install_hub_proxy.sh [DEST]      (default DEST: .venv-teacher/proxy)
#
# `python3 course.py test` runs it. It does nothing when DEST already holds this lock's install.
# Without npm, when we are root with apt-get (a fresh CI machine), it installs Debian's nodejs and
# npm first; the proxy needs Node 20 or later. Otherwise it says why not and exits 0: the other
# tests still run, and the hub test then fails under CI=true (or skips with the reason when CI is
# unset) with a message that names this script.
set -u

here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/../.venv-teacher/proxy}"
proxy="$dest/node_modules/.bin/configurable-http-proxy"

if [ -x "$proxy" ] && cmp -s "$here/hub_proxy/package-lock.json" "$dest/package-lock.json"; then
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "install_hub_proxy: npm is missing; installing Debian's nodejs and npm with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update && apt-get install -y --no-install-recommends nodejs npm \
            || echo "install_hub_proxy: 'apt-get install nodejs npm' failed" >&2
    fi
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install_hub_proxy: npm is missing (install Node.js 20 or later with npm);" \
         "the hub test (tests/test_hub.py) will fail without the proxy" >&2
    exit 0
fi

mkdir -p "$dest"
cp "$here/hub_proxy/package.json" "$here/hub_proxy/package-lock.json" "$dest/"
if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >&2); then
    echo "install_hub_proxy: 'npm ci' in $dest failed; the hub test will fail without the proxy" >&2
    rm -f "$dest/package-lock.json"  # so that the next run tries again
fi
exit 0
