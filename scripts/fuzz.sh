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
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
budget="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(shell workload_toml trace_readers sweep_flags)
fi
export RUSTC_BOOTSTRAP=1
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t: ${budget}s"
  if ! cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$budget" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -print_final_stats=1 2>&1 | tee "/tmp/ttlsim-fuzz-$t.log" | grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)"; then
    status=1
  fi
  if grep -q "^SUMMARY\|deadly signal\|ERROR: libFuzzer" "/tmp/ttlsim-fuzz-$t.log"; then
    echo "!! $t crashed: see fuzz/artifacts/$t/ and /tmp/ttlsim-fuzz-$t.log"
    status=1
  fi
done
exit $status
