#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) in build-fuzz and runs
# each for a set time, starting from a copy of its seed corpus in
# tests/fuzz/corpus/<name> (the committed corpus is never written to).
#
# usage: tests/fuzz/run.sh [SECONDS_PER_HARNESS] [NAME_FILTER]
#   SECONDS_PER_HARNESS  default 60
#   NAME_FILTER          a regex matched against harness names (adb, ^sparse$,
#                        base64|sync, ...)
# Environment:
#   DF_FUZZ_BUILD  build folder (default <repo>/build-fuzz)
#   DF_FUZZ_JOBS   harnesses run at once (default 1; 2 on a 2-core machine
#                  leaves nothing for anything else)
#   DF_FUZZ_ARGS   more libFuzzer flags for every harness (e.g. -runs=10000000)
#   DF_FUZZ_NO_BUILD  set: run the harnesses already built, build nothing
#   DF_FUZZ_KEEP   a folder to keep each harness's grown corpus in
# Crashes are kept in <build>/fuzz-artifacts/<name>-crash-*, each harness's
# log in <build>/fuzz-logs/<name>.log. Prints a line per harness and
# "N passed, N failed"; exits non-zero when any harness failed.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
filter=${2:-}
build=${DF_FUZZ_BUILD:-$src/build-fuzz}
jobs=${DF_FUZZ_JOBS:-1}
extra=${DF_FUZZ_ARGS:-}

case $secs in
  '' | *[!0-9]*) echo "run.sh: SECONDS_PER_HARNESS must be a number, not '$secs'" >&2; exit 2 ;;
esac

if [ -n "${DF_FUZZ_NO_BUILD:-}" ]; then
  : # DF_FUZZ_NO_BUILD=1: run the harnesses already built
elif ! command -v clang >/dev/null; then
  echo "run.sh: clang is needed for libFuzzer (apt-get install clang)" >&2
  exit 1
fi
[ -n "${DF_FUZZ_NO_BUILD:-}" ] || cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDF_FUZZ=ON -DDF_SANITIZE=ON -DDF_TESTS=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; echo "run.sh: cmake configure failed" >&2; exit 1; }
rm -f "$build.configure.log"
[ -n "${DF_FUZZ_NO_BUILD:-}" ] || cmake --build "$build" -j "$(nproc)" --target df_fuzz_all >/dev/null ||
  { echo "run.sh: building the harnesses failed (see above)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/df-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"

# One harness: prints its summary line into $work/<name>.result.
run_one() {
  local name=$1 bin=$2 log=$build/fuzz-logs/$1.log corpus=$work/$1 rc dict=()
  mkdir -p "$corpus"
  if [ -d "$src/tests/fuzz/corpus/$name" ]; then cp "$src/tests/fuzz/corpus/$name"/* "$corpus"/; fi
  if [ -f "$src/tests/fuzz/dict/$name.dict" ]; then dict=(-dict="$src/tests/fuzz/dict/$name.dict"); fi
  # shellcheck disable=SC2086 # DF_FUZZ_ARGS is a list of flags
  "$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$name-" "${dict[@]}" $extra "$corpus" >"$log" 2>&1
  rc=$?
  local runs cov ft secs_used
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs_used=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  ft=${cov#*ft: }
  cov=${cov%% ft*}
  cov=${cov#cov: }
  if [ -n "${DF_FUZZ_KEEP:-}" ]; then mkdir -p "$DF_FUZZ_KEEP/$name" && cp "$corpus"/* "$DF_FUZZ_KEEP/$name"/ 2>/dev/null; fi
  if [ $rc -eq 0 ]; then
    printf 'PASS %-18s %10s runs %5s s  cov %-5s ft %-6s\n' "$name" "${runs:-?}" \
      "${secs_used:-$secs}" "${cov:-?}" "${ft:-?}" >"$work/$name.result"
  else
    printf 'FAIL %-18s exit %d after %s runs: %s (log %s)\n' "$name" $rc "${runs:-?}" \
      "$(grep -m1 -oE 'check failed:.*|ERROR: [A-Za-z]+:.*|SUMMARY: .*' "$log" | head -c 200)" \
      "$log" >"$work/$name.result"
  fi
}

names=()
for bin in "$build"/bin/fuzz_*; do
  [ -x "$bin" ] || continue
  name=${bin##*/fuzz_}
  [[ $name =~ $filter ]] || continue
  names+=("$name")
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$name" "$bin" &
done
wait

passed=0
failed=0
for name in "${names[@]}"; do
  cat "$work/$name.result"
  case $(cat "$work/$name.result") in PASS*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
done
if [ ${#names[@]} -eq 0 ]; then echo "run.sh: no harness matches '$filter'" >&2; failed=1; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
