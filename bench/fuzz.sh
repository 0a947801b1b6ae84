#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/) for the given time, one after the other, each from its
# seed corpus, and prints a Markdown table of what each reached: executions, executions per
# second, coverage (cov: edges, ft: features) and the corpus it grew. docs/benchmarks.md keeps
# the latest figures. A target that finds a bug is reported and its input kept in
# build-fuzz/fuzz/artifacts/; the others still run.
# usage: bench/fuzz.sh [SECONDS_PER_TARGET]   (default 600; one fuzzer at a time)
# PORTICO_BUILD_LOCK=<file>: hold that lock while compiling.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${1:-600}
OUT=build-fuzz/fuzz
WORK=$(mktemp -d /tmp/portico-fuzz-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Reports with file and line, and UBSan's with the stack that led there.
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-14}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DPORTICO_FUZZ=ON >/dev/null
if [ -n "${PORTICO_BUILD_LOCK:-}" ]; then
  flock "$PORTICO_BUILD_LOCK" cmake --build build-fuzz -j"$(nproc)" >/dev/null
else
  cmake --build build-fuzz -j"$(nproc)" >/dev/null
fi
mkdir -p "$OUT/artifacts"

echo "| target | seconds | executions | exec/s | cov | ft | corpus (seeds → end) | result |"
echo "|---|---|---|---|---|---|---|---|"
status=0
while read -r target; do
  seeds=$(find "fuzz/corpus/$target" -type f | wc -l)
  mkdir -p "$WORK/$target"
  cp "fuzz/corpus/$target"/* "$WORK/$target/"
  log=$WORK/$target.log
  result=clean
  if ! "$OUT/${target}_fuzz" -max_total_time="$DURATION" -timeout=10 -max_len=4096 -print_final_stats=1 \
       -artifact_prefix="$OUT/artifacts/$target-" "$WORK/$target" </dev/null >"$log" 2>&1; then
    result="**found: $(grep -m1 -oE 'runtime error: .*|property does not hold: .*|ERROR: [A-Za-z]+: [a-z-]+' "$log" | cut -c1-80)**"
    status=1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  echo "| $target | $DURATION | $runs | $rate | $cov | $ft | $seeds → $corp | $result |"
done <"$OUT/targets.txt"
exit $status
