#!/usr/bin/env bash
# Installs what building and testing streamplug needs, skipping what is
# already there: the wasm32-wasip2 target and the rustfmt/clippy components.
set -euo pipefail

have_target() { rustup target list --installed 2>/dev/null | grep -qx "$1"; }
have_component() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is not on PATH; install Rust with rustup first" >&2
  exit 1
fi
if ! have_target wasm32-wasip2; then
  echo "setup: installing the wasm32-wasip2 target"
  rustup target add wasm32-wasip2
fi
for c in rustfmt clippy; do
  if ! have_component "$c"; then
    echo "setup: installing $c"
    rustup component add "$c"
  fi
done
