#!/usr/bin/env bash
# Installs what the test suite needs beyond the build, skipping what is
# already there: the tansu Kafka-compatible broker and Debian's redis-server
# (the Kafka-backend tests start both on free loopback ports), kafka-python,
# websockets, Schemathesis, openapi-spec-validator and dockerfile-parse in a virtualenv,
# Debian's chromium, Node.js, playwright-core for the browser test
# (tests/browser) and @asyncapi/parser for the contract test (tests/contract).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh

TANSU_VERSION=0.6.0
tansu_bin="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
if [ ! -x "$tansu_bin" ] || ! "$tansu_bin" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
  echo "setup-test: installing tansu $TANSU_VERSION (a few minutes, once per machine)"
  cargo install tansu --version "$TANSU_VERSION" --locked --no-default-features --features dynostore
fi

command -v redis-server >/dev/null 2>&1 || { echo "setup-test: installing redis-server"; apt_install redis-server; }
# systemd-analyze, which verifies the unit in deploy/.
command -v systemd-analyze >/dev/null 2>&1 || { echo "setup-test: installing systemd"; apt_install systemd; }
# kafka-python and websockets, the independent Kafka and WebSocket clients
# of the interop tests; Schemathesis, the API fuzzer of the contract tests,
# and openapi-spec-validator.
venv=target/test-venv
SCHEMATHESIS_VERSION=4.32.5
if ! "$venv/bin/python" -c "import kafka, websockets, openapi_spec_validator, dockerfile_parse" >/dev/null 2>&1 \
  || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "setup-test: installing the test clients in $venv"
  [ -x "$venv/bin/pip" ] || make_venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check kafka-python==3.0.12 websockets==17.4 \
    "schemathesis==$SCHEMATHESIS_VERSION" openapi-spec-validator==0.9.0 dockerfile-parse==2.0.1
fi

command -v chromium >/dev/null 2>&1 || { echo "setup-test: installing chromium"; apt_install chromium; }
command -v node >/dev/null 2>&1 || { echo "setup-test: installing node"; apt_install nodejs npm; }
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "setup-test: installing playwright-core"
  npm ci --prefix tests/browser --no-audit --no-fund
fi
# @asyncapi/parser, which validates docs/asyncapi.json.
if [ ! -d tests/contract/node_modules/@asyncapi/parser ]; then
  echo "setup-test: installing @asyncapi/parser"
  npm ci --prefix tests/contract --no-audit --no-fund
fi
