#!/usr/bin/env bash
# The benchmarks (not part of `make test`: targets are measured, not asserted):
#   1. `tollbooth bench`: every reference problem in ../shared/bench against the peers'
#      recorded timings, plus the default scenario natively (1 thread and all threads);
#   2. the in-browser timing: the default scenario in headless Chromium on the release
#      bundle, with the wasm/native ratio, load to interactive, the first partial result
#      and main-thread long tasks.
# Criterion benches run separately: `cargo bench -p tollbooth-engine`.
# Options are passed to the browser run, e.g. `scripts/bench.sh --paths 100`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
. scripts/env.sh
cargo build --release --locked -p tollbooth-cli
target/release/tollbooth bench
trunk build --release
node tests/perf/browser-timing.mjs "$@"
