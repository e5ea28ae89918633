#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each for a bounded time
# (`make fuzz`; docs/reliability.md, "Fuzzing").
#
# usage: tests/fuzz/run.sh [TARGET...]     (default: csv time api survey)
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_BUILD     build directory (default build-fuzz)
#   FUZZ_JOBS      parallel fuzzing processes per target (default 1)
#
# Each target starts from its seed corpus (tests/fuzz/corpus/<target>) and
# keeps what it learns in $FUZZ_BUILD/fuzz-corpus/<target> across runs.
# Crash inputs go to $FUZZ_BUILD/fuzz-artifacts/<target>/; the exit status is
# 1 when a target crashed. Fix the bug, then keep the input as
# tests/fuzz/regressions/<target>/<what-it-was> so the ordinary suite
# replays it (tests/test_fuzz_replay.c).
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-1}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(csv time api survey)

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang meson setup "$BUILD" -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
    -Dcli=false -Dbenchmarks=false || exit 2
fi
ninja -C "$BUILD" $(for t in "${TARGETS[@]}"; do echo "tests/fuzz/fuzz_$t"; done) || exit 2

summary="$BUILD/fuzz-summary.txt"
: > "$summary"
status=0
total_execs=0
printf '%-8s %12s %10s %14s %8s %9s  %s\n' target executions exec/s "edges covered" features corpus result | tee -a "$summary"
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/fuzz-corpus/$t"
  artifacts="$BUILD/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts/previous"
  find "$artifacts" -maxdepth 1 -type f -exec mv {} "$artifacts/previous/" \;
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  log="$BUILD/fuzz-$t.log"
  parallel=()
  [ "$JOBS" -gt 1 ] && parallel=(-jobs="$JOBS" -workers="$JOBS")
  # ASan checks leaks at exit; UBSan reports stop the run (-fno-sanitize-recover).
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    "$BUILD/tests/fuzz/fuzz_$t" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" \
    -max_len=8192 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 "${parallel[@]}" \
    -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1
  rc=$?
  # With -jobs the workers log to fuzz-<n>.log in the working directory.
  if [ "$JOBS" -gt 1 ]; then
    cat fuzz-*.log >> "$log" 2>/dev/null
    rm -f fuzz-*.log
  fi
  execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
  rate=$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{s += $2} END {print s + 0}')
  edges=$(grep -hoE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  feats=$(grep -hoE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  total=$(grep -hoE 'Loaded 1 modules +\([0-9]+ inline 8-bit counters' "$log" | head -1 |
          grep -oE '[0-9]+ inline' | awk '{print $1}')
  units=$(ls "$corpus" | wc -l)
  crashes=$(find "$artifacts" -maxdepth 1 -type f | grep -cE '/(crash|leak|timeout|oom|slow-unit)-')
  result=ok
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $rc; see $log and $artifacts)"
    status=1
  fi
  cov="${edges:-0}/${total:-?}"
  printf '%-8s %12s %10s %14s %8s %9s  %s\n' "$t" "$execs" "$rate" "$cov" "${feats:-0}" "$units" \
    "$result" | tee -a "$summary"
  total_execs=$((total_execs + execs))
done
echo "total executions: $total_execs in ${#TARGETS[@]} targets x ${SECONDS_PER_TARGET} s" | tee -a "$summary"
echo "(edges covered: of the instrumented edges of the whole program, library and target)" | tee -a "$summary"
exit $status
