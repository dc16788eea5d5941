#!/usr/bin/env bash
# Installs what building and testing streamplug needs, skipping what is
# already there: the wasm32-wasip2 target (plugins), the wasm32-unknown-unknown
# target (the Extism peer of the benchmarks) and the rustfmt/clippy components.
set -euo pipefail

have_target() { rustup target list --installed 2>/dev/null | grep -qx "$1"; }
have_component() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is not on PATH; install Rust with rustup first" >&2
  exit 1
fi
for t in wasm32-wasip2 wasm32-unknown-unknown; do
  if ! have_target "$t"; then
    echo "setup: installing the $t target"
    rustup target add "$t"
  fi
done
for c in rustfmt clippy; do
  if ! have_component "$c"; then
    echo "setup: installing $c"
    rustup component add "$c"
  fi
done
