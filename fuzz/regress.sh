#!/usr/bin/env bash
# The fuzz regression check of scripts/test: builds the libFuzzer targets (clang, build-fuzz/),
# replays each target's corpus (fuzz/corpus/<target>/: seeds and every input that once found a
# bug), then fuzzes each for a few seconds more. Any crash, sanitizer report, leak, slow input or
# broken property fails the run; the input is left in build-fuzz/fuzz/artifacts/.
# usage: fuzz/regress.sh [SECONDS_PER_TARGET]   (default 4)
# PORTICO_BUILD_LOCK=<file>: hold that lock while compiling (a machine shared by several builds).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_TARGET=${1:-4}
OUT=build-fuzz/fuzz
WORK=$(mktemp -d /tmp/portico-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Reports with file and line, and UBSan's with the stack that led there.
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-14}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DPORTICO_FUZZ=ON >/dev/null
if [ -n "${PORTICO_BUILD_LOCK:-}" ]; then
  flock "$PORTICO_BUILD_LOCK" cmake --build build-fuzz -j"$(nproc)" >"$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }
else
  cmake --build build-fuzz -j"$(nproc)" >"$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }
fi
mkdir -p "$OUT/artifacts"

failed=()
while read -r target; do
  corpus=fuzz/corpus/$target
  mkdir -p "$WORK/$target"
  # Replay first: every input kept must still pass. Then fuzz from it, new inputs going to a
  # scratch directory, never to the repository's corpus. -timeout: an input taking 10 s is a hang.
  if "$OUT/${target}_fuzz" -runs=0 -timeout=10 -artifact_prefix="$OUT/artifacts/$target-" "$corpus" </dev/null >"$WORK/$target.log" 2>&1 &&
     "$OUT/${target}_fuzz" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -max_len=4096 \
       -artifact_prefix="$OUT/artifacts/$target-" "$WORK/$target" "$corpus" </dev/null >>"$WORK/$target.log" 2>&1; then
    printf '%-20s ok  %s\n' "$target" "$(grep -o 'cov: [0-9]* ft: [0-9]*' "$WORK/$target.log" | tail -1)"
  else
    printf '%-20s FAILED\n' "$target"
    grep -E 'ERROR|runtime error|property does not hold|SUMMARY|Test unit written' "$WORK/$target.log" | head -20
    failed+=("$target")
  fi
done <"$OUT/targets.txt"

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in $OUT/artifacts/)" >&2
  exit 1
fi
echo "fuzz: every target passed its corpus and ${SECONDS_PER_TARGET} s of fuzzing"
