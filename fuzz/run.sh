#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60), one after the other.
#
#   fuzz/run.sh [SECONDS]
#
# Corpora grow under fuzz/corpus/<target> (not committed), seeded from fuzz/seeds/<target>.
# A crash (or timeout, or out-of-memory) is copied to fuzz/regressions/<target>/, where the
# root crate's unit tests replay it (`cargo test --workspace`); the script then fails.
# cargo-fuzz needs the nightly toolchain: without it the script says so and does nothing.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: the nightly toolchain is not installed: fuzzing skipped" >&2
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# No sanitizer: the code under test is safe Rust, and AddressSanitizer would halve the speed
# and lengthen the build of wasmtime and Cranelift. Debug assertions (and with them overflow
# checks) stay on, as in the test profile.
flags=(--sanitizer none --debug-assertions)
# libFuzzer options: a slow input (over 30 s) or 4 GiB of memory is a finding too.
options=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=8192
  -print_final_stats=1)

start=$(date +%s)
cargo +nightly fuzz build "${flags[@]}"
echo "build: $(( $(date +%s) - start )) s"

mkdir -p logs
failed=()
summary=()
for target in $(cargo +nightly fuzz list); do
  # Earlier findings were copied to regressions/ already.
  rm -rf "artifacts/$target"
  mkdir -p "corpus/$target" "artifacts/$target"
  status=0
  cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" \
    -- "${options[@]}" >"logs/$target.log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$target.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$target.log" | tail -1)
  found=0
  for artifact in artifacts/"$target"/{crash,timeout,oom,leak}-*; do
    [ -e "$artifact" ] || continue
    mkdir -p "regressions/$target"
    cp "$artifact" "regressions/$target/"
    found=$((found + 1))
  done
  summary+=("$(printf '%-16s %10s runs %8s exec/s %3d findings' "$target" "${runs:-?}" "${rate:-?}" "$found")")
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    failed+=("$target")
    tail -40 "logs/$target.log" >&2
  fi
done

echo "fuzzing: ${seconds} s per target, $(( $(date +%s) - start )) s in total with the build"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "findings in: ${failed[*]} (copied to fuzz/regressions/; fix them, keep the inputs)" >&2
  exit 1
fi
