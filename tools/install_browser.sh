#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the real-browser test (tests/test_browser.py).
#
#   bash tools/install_browser.sh
#
# `playwright install` cannot download browsers on the course machines, so the test drives the
# distribution's Chromium at /usr/bin/chromium (override with COURSE_CHROMIUM=/path/to/chromium).
# When it is missing and we are root with apt-get (a fresh CI machine), install it. Otherwise say
# why not and exit 0: the other tests still run, and the browser test then fails under CI=true
# (or skips with the reason when CI is unset) with a message that names this script.
set -u

CHROMIUM="${COURSE_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: $CHROMIUM is missing; installing Debian's chromium with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update && apt-get install -y --no-install-recommends chromium; then
        if [ -x "$CHROMIUM" ]; then
            exit 0
        fi
        echo "install_browser: apt-get installed chromium but $CHROMIUM is still missing" >&2
    else
        echo "install_browser: 'apt-get install chromium' failed" >&2
    fi
else
    echo "install_browser: $CHROMIUM is missing and this is not root with apt-get;" \
         "install it with: sudo apt-get install chromium" >&2
fi
echo "install_browser: the browser test (tests/test_browser.py) will fail without it" >&2
exit 0
