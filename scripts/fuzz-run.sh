#!/usr/bin/env bash
# Runs each coverage-guided fuzz target for FUZZ_SECONDS (cargo-fuzz,
# libFuzzer; fuzz/). Reads the committed corpus (fuzz/seeds/<target>) and the
# regressions (fuzz/regressions/<target>) without changing them; new inputs
# go to fuzz/corpus/<target> (not kept). Prints one line per target with
# libFuzzer's final statistics; the full output is in target/fuzz/<target>.log.
# A crash or failed property stops the run, prints the input (base64) and
# where libFuzzer saved it: add it to fuzz/regressions/<target>/ so
# `cargo test` replays it from then on.
#
# Usage: scripts/fuzz-run.sh <seconds> <target>...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=$1
shift
scripts/setup-fuzz.sh
# The sanitizer build keeps its own artifacts under the one target/.
build=(--target-dir target/fuzz/build)
cargo +nightly fuzz build -O "${build[@]}"
mkdir -p target/fuzz
for t in "$@"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
  log="target/fuzz/$t.log"
  if ! cargo +nightly fuzz run -O "${build[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz: $t FAILED; the end of $log:"
    tail -n 40 "$log"
    for crash in "fuzz/artifacts/$t"/*; do
      [ -f "$crash" ] || continue
      echo "fuzz: $t input $crash (base64): $(base64 -w0 "$crash")"
    done
    exit 1
  fi
  stat() { awk -v k="$1" '$1 == k ":" { print $2 }' "$log" | tail -n 1; }
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  echo "fuzz: $t ok: $(stat stat::number_of_executed_units) executions in ${seconds} s ($(stat stat::average_exec_per_sec)/s), coverage ${cov:-?} edges, peak RSS $(stat stat::peak_rss_mb) MB"
done
