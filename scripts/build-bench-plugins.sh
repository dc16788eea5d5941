#!/usr/bin/env bash
# Builds the same plugin (the `streamplug plugin new` template: a product-view
# counter) in Rust, Python and JavaScript into target/bench-plugins, for the
# per-language benches (host/benches/polyglot.rs). Needs the toolchains
# `make py-plugins js-plugins` installs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=target/bench-plugins
mkdir -p "$out"
cargo build -q -p streamplug
for lang in rust python js; do
  rm -rf "$out/view-counter-$lang"
  target/debug/streamplug plugin new "view-counter-$lang" --lang "$lang" --dir "$out/view-counter-$lang" >/dev/null
done
(cd "$out/view-counter-rust" && CARGO_TARGET_DIR="$root/target/template-plugins" cargo build -q --target wasm32-wasip2 --release)
cp target/template-plugins/wasm32-wasip2/release/view_counter_rust.wasm "$out/"
(cd "$out/view-counter-python" && "$root/target/py-plugins/bin/componentize-py" -d wit -w plugin componentize app -p . -o "$root/$out/view_counter_python.wasm" >/dev/null)
(cd "$out/view-counter-js" && "$root/sdk/js/node_modules/.bin/componentize-js" --wit wit --world-name plugin -d http fetch-event -o "$root/$out/view_counter_js.wasm" app.js)
ls -l "$out"/*.wasm
