#!/usr/bin/env bash
# Sets up what is missing (including Chromium), then runs every test:
# format, lints, native tests, the engine's wasm32 build, wasm-bindgen tests in headless
# Chromium, the release bundle and its size, and the Playwright journeys.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test || exit 1
. scripts/env.sh

log_dir=target/test-logs
rm -rf "$log_dir"
mkdir -p "$log_dir"
failures=()

# run NAME CMD...: runs a step, keeps its output for the summary, records a failure.
run() {
  local name=$1
  shift
  printf '\n==> %s: %s\n' "$name" "$*"
  local start=$SECONDS
  "$@" 2>&1 | tee "$log_dir/$name.log"
  local rc=${PIPESTATUS[0]}
  printf '<== %s: exit %d in %ds\n' "$name" "$rc" $((SECONDS - start))
  [ "$rc" -eq 0 ] || failures+=("$name")
  return "$rc"
}

export CARGO_TERM_COLOR=never
# A clean CI checkout compiles once: incremental caches would only take disk space.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT=120
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

run fmt cargo fmt --all --check
run clippy cargo clippy --workspace --all-targets --locked -- -D warnings
run clippy-wasm-app cargo clippy -p tollbooth-app --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
run clippy-wasm-engine cargo clippy -p tollbooth-engine --target wasm32-unknown-unknown --lib --locked -- -D warnings
run docs env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
run native-tests cargo test --workspace --locked
# The 300-lot household's proven-gap tests are too slow in debug: they run in release.
run household-release cargo test --release --locked -p tollbooth-engine --test household_demo -- --include-ignored
run engine-wasm32 cargo build -p tollbooth-engine --target wasm32-unknown-unknown --locked
run browser-tests cargo test -p tollbooth-app --target wasm32-unknown-unknown --locked
if run bundle trunk build --release; then
  for wasm in dist/*.wasm; do
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    printf 'release wasm: %s: %d bytes raw, %d bytes gzipped (%.1f KiB)\n' "$wasm" "$raw" "$gz" "$(awk -v b="$gz" 'BEGIN { print b / 1024 }')"
  done
  run e2e node --test --test-concurrency=1 --test-reporter=spec tests/e2e/
  # The in-browser benchmark's script, on a tiny run (it measures; `make bench` runs it in full).
  run bench-smoke node tests/perf/browser-timing.mjs --paths 8 --years 1 --native-paths 2 \
    --cli target/debug/tollbooth --out target/bench/browser-smoke.json
else
  failures+=("e2e (not run: no bundle)")
fi

# Per-runner summary lines.
printf '\n==> summary\n'
total_pass=0
total_fail=0
for name in native-tests household-release browser-tests; do
  f="$log_dir/$name.log"
  [ -f "$f" ] || continue
  read -r p fl < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } } END { print p + 0, f + 0 }' "$f")
  printf 'cargo test (%s): %d passed, %d failed\n' "$name" "$p" "$fl"
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + fl))
done
if [ -f "$log_dir/e2e.log" ]; then
  p=$(awk '/^ℹ pass / { print $3 }' "$log_dir/e2e.log" | tail -n 1)
  fl=$(awk '/^ℹ fail / { print $3 }' "$log_dir/e2e.log" | tail -n 1)
  printf 'node --test (e2e): %d passed, %d failed\n' "${p:-0}" "${fl:-0}"
  total_pass=$((total_pass + ${p:-0}))
  total_fail=$((total_fail + ${fl:-0}))
fi
if [ ${#failures[@]} -gt 0 ]; then
  printf 'failed steps: %s\n' "${failures[*]}"
  total_fail=$((total_fail > 0 ? total_fail : ${#failures[@]}))
fi
printf 'all: %d passed, %d failed\n' "$total_pass" "$total_fail"
[ ${#failures[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]
