#!/usr/bin/env bash
# Installs the toolchains that build plugins in other languages than Rust,
# skipping what is already there: componentize-py (PyPI) in the virtualenv
# target/py-plugins.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

COMPONENTIZE_PY_VERSION=0.25.1
venv=target/py-plugins
if ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -q "$COMPONENTIZE_PY_VERSION"; then
  echo "setup-polyglot: installing componentize-py $COMPONENTIZE_PY_VERSION in $venv"
  [ -x "$venv/bin/pip" ] || make_venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi
