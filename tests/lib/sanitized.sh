#!/usr/bin/env bash
# Runs one shell test (tests/e2e, tests/peer) against binaries built with
# -DDF_SANITIZE=ON, with LeakSanitizer on, and fails it when any sanitized
# process it started (droidfix, droidfix-sim, ...) reported a leak or an
# error. The reports go to files, not to the test's stderr: a test that only
# checks an exit status, or a sim in the background whose stderr nobody
# reads, would otherwise swallow them.
#   usage: sanitized.sh COMMAND [ARGS...]
set -u

logs=$(mktemp -d /tmp/droidfix-sanitizer.XXXXXX)
trap 'rm -rf "$logs"' EXIT
# exitcode 23: a leak or an ASan error fails the process with a status no
# droidfix command uses. UBSan halts at the first error (the build also has
# -fno-sanitize-recover=undefined). abort_on_error=0: exit, do not dump core.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=23:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}"

"$@"
rc=$?

reports=$(find "$logs" -type f -size +0 | sort)
if [ -n "$reports" ]; then
  echo "sanitizer reports from processes this test started:"
  for f in $reports; do
    echo "==== $(basename "$f")"
    head -n 80 "$f"
  done
  echo "FAIL - the sanitizers found leaks or errors (see the reports above)"
  [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
