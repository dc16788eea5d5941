#!/usr/bin/env bash
# Installs what the test suite needs beyond the build, skipping what is
# already there: Debian's chromium, Node.js, and playwright-core for the
# browser test (tests/browser).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test: please install $* (e.g. sudo apt-get install -y $*)" >&2
    exit 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

command -v chromium >/dev/null 2>&1 || { echo "setup-test: installing chromium"; apt_install chromium; }
command -v node >/dev/null 2>&1 || { echo "setup-test: installing node"; apt_install nodejs npm; }
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "setup-test: installing playwright-core"
  npm ci --prefix tests/browser --no-audit --no-fund
fi
