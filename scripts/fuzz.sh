#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a fixed budget each (a
# pre-release step; see README "Fuzzing"). Needs `cargo install cargo-fuzz`;
# on a stable toolchain RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the nightly
# flags it needs. The working corpus grows in fuzz/corpus/<target>/ (not
# committed); the small committed seeds are in fuzz/seeds/<target>/. A crash
# is saved in fuzz/artifacts/<target>/ and makes the script exit 1.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 3600       # an hour per target
#   scripts/fuzz.sh 60 shell   # one target
#   RUNS=10000000 scripts/fuzz.sh 0   # ten million executions per target
#
# Built without a sanitizer (`-s none`): ttlsim's parsers and command layer
# have no unsafe code (the only `unsafe` blocks are libc calls for flock,
# SIGINT, a CPU clock and a prefetch hint), so AddressSanitizer would find
# nothing there and costs about half the executions. Panics, aborts,
# timeouts and the 2 GiB memory limit are what the fuzzers catch.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
budget="${1:-60}"
shift || true
limit=(-max_total_time="$budget")
if [ -n "${RUNS:-}" ]; then
  limit=(-runs="$RUNS")
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(shell workload_toml trace_readers sweep_flags)
fi
export RUSTC_BOOTSTRAP=1
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t: ${limit[*]}"
  if ! cargo fuzz run -O -s none "$t" "corpus/$t" "seeds/$t" -- \
      "${limit[@]}" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -print_final_stats=1 2>&1 | tee "/tmp/ttlsim-fuzz-$t.log" | grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)"; then
    status=1
  fi
  if grep -q "^SUMMARY\|deadly signal\|ERROR: libFuzzer" "/tmp/ttlsim-fuzz-$t.log"; then
    echo "!! $t crashed: see fuzz/artifacts/$t/ and /tmp/ttlsim-fuzz-$t.log"
    status=1
  fi
done
exit $status
