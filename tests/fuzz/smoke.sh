#!/usr/bin/env bash
# The cheap check of the fuzz harnesses: builds them (as run.sh does) and runs
# each once over every file of its seed corpus, no mutation. Catches a parser
# change that breaks a harness's properties on known inputs, and every
# regression seed (regress-*) of a bug fixed. A few seconds once built.
#
# usage: tests/fuzz/smoke.sh [NAME_FILTER]   (a regex on harness names)
# Environment: DF_FUZZ_BUILD (default <repo>/build-fuzz); DF_FUZZ_NO_BUILD=1
# runs the harnesses already built.
# Prints a line per harness and "N passed, N failed"; non-zero on failure.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
filter=${1:-}
build=${DF_FUZZ_BUILD:-$src/build-fuzz}

if [ -n "${DF_FUZZ_NO_BUILD:-}" ]; then
  : # DF_FUZZ_NO_BUILD=1: run the harnesses already built
elif ! command -v clang >/dev/null; then
  echo "smoke.sh: clang is needed for libFuzzer (apt-get install clang)" >&2
  exit 1
fi
[ -n "${DF_FUZZ_NO_BUILD:-}" ] || cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDF_FUZZ=ON -DDF_SANITIZE=ON -DDF_TESTS=OFF >/dev/null ||
  { echo "smoke.sh: cmake configure failed" >&2; exit 1; }
[ -n "${DF_FUZZ_NO_BUILD:-}" ] || cmake --build "$build" -j "$(nproc)" --target df_fuzz_all >/dev/null ||
  { echo "smoke.sh: building the harnesses failed (see above)" >&2; exit 1; }

log=$(mktemp "${TMPDIR:-/tmp}/df-fuzz-smoke.XXXXXX")
trap 'rm -f "$log"' EXIT
passed=0
failed=0
for bin in "$build"/bin/fuzz_*; do
  name=${bin##*/fuzz_}
  [[ $name =~ $filter ]] || continue
  seeds=("$src/tests/fuzz/corpus/$name"/*)
  if [ ! -e "${seeds[0]}" ]; then
    echo "FAIL $name: no seeds in tests/fuzz/corpus/$name"
    failed=$((failed + 1))
    continue
  fi
  # Files given one by one: each runs once and nothing is written beside them.
  if "$bin" -timeout=30 "${seeds[@]}" >"$log" 2>&1; then
    echo "PASS $name (${#seeds[@]} seeds)"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $(grep -m1 -oE 'check failed:.*|ERROR: [A-Za-z]+:.*' "$log" | head -c 200)"
    sed -n '1,40p' "$log" | sed 's/^/  /'
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
