#!/usr/bin/env bash
# Installs the toolchains that build plugins in other languages than Rust,
# skipping what is already there: componentize-py (PyPI) in the virtualenv
# target/py-plugins (`py`), componentize-js (npm, pinned by
# sdk/js/package-lock.json) in sdk/js/node_modules (`js`). No argument: both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

want=${1:-all}

COMPONENTIZE_PY_VERSION=0.25.1
venv=target/py-plugins
if [ "$want" != js ] && ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -q "$COMPONENTIZE_PY_VERSION"; then
  echo "setup-polyglot: installing componentize-py $COMPONENTIZE_PY_VERSION in $venv"
  [ -x "$venv/bin/pip" ] || make_venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

if [ "$want" != py ] && [ ! -x sdk/js/node_modules/.bin/componentize-js ]; then
  command -v npm >/dev/null 2>&1 || { echo "setup-polyglot: installing node"; apt_install nodejs npm; }
  echo "setup-polyglot: installing componentize-js in sdk/js/node_modules"
  npm ci --prefix sdk/js --no-audit --no-fund
fi
