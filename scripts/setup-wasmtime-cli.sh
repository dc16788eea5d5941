#!/usr/bin/env bash
# Installs the wasmtime CLI (the `wasmtime serve` peer of the load harness)
# into target/tools/bin, unless it is there: the same wasmtime version as
# the gateway, built from crates.io with only what `serve` needs.
set -euo pipefail
cd "$(dirname "$0")/.."
version=48.0.8
bin=target/tools/bin/wasmtime
if [ -x "$bin" ] && "$bin" --version | grep -q "^wasmtime $version\b"; then
  exit 0
fi
echo "setup: building wasmtime-cli $version into target/tools (once; several minutes)"
cargo install wasmtime-cli --version "$version" --locked --no-default-features \
  --features serve,run,cranelift,pooling-allocator,parallel-compilation,cache,component-model-async \
  --root target/tools --target-dir target/tools/build
