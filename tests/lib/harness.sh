# Shared by the shell tests (tests/e2e, tests/peer): counting checks,
# a private temporary folder, and simulated phones started and stopped.
# Source it; it sets `set -u`, a trap that cleans up, and:
#   check NAME CMD...     run CMD; count it passed or failed
#   ok NAME / bad NAME    count a result decided by the test itself
#   finish                print "N passed, N failed" and exit 0 or 1
#   sim_start NAME [ARGS] start droidfix-sim serve in $WORK/NAME; sets
#                         SIM_ADB, SIM_FB (127.0.0.1:PORT) and SIM_PID
#   sim_stop PID          stop one sim (the trap stops the rest)
#   wait_until SECONDS CMD...  retry CMD every 0.1 s until it succeeds
#   sim_status_field DIR FIELD  one field of `droidfix-sim status` for the
#                         sim in DIR (a list printed as Python prints it)
#   droidfix_run NAME RECIPE [ARGS]  droidfix run recipes/RECIPE.lua on the
#                         sim at $SIM_ADB; output in $WORK/NAME.out and .err;
#                         sets RUN_RC
set -u

DF_BIN_DIR=${DF_BIN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build/bin" && pwd)}
DF_SOURCE_DIR=${DF_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DROIDFIX="$DF_BIN_DIR/droidfix"
SIM="$DF_BIN_DIR/droidfix-sim"
WORK=$(mktemp -d /tmp/droidfix-test.XXXXXX)
# A home of the test's own: its ~/.android/adbkey is not the user's.
export HOME="$WORK/home"
mkdir -p "$HOME"
PASSED=0
FAILED=0
SIM_PIDS=()

harness_cleanup() {
  local pid
  for pid in "${SIM_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ -n "${ADB_SERVER_PORT:-}" ]; then adb -P "$ADB_SERVER_PORT" kill-server >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap harness_cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }

check() {
  local name=$1
  shift
  if "$@" >"$WORK/last.out" 2>"$WORK/last.err"; then
    ok "$name"
  else
    bad "$name (exit $?)"
    sed 's/^/    out: /' "$WORK/last.out" | head -20
    sed 's/^/    err: /' "$WORK/last.err" | head -20
  fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit $?
}

wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# A free TCP port outside Google's emulator range (5555-5585).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sim_start() {
  local name=$1
  shift
  mkdir -p "$WORK/$name"
  "$SIM" serve --state-dir "$WORK/$name" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  SIM_PID=$!
  SIM_PIDS+=("$SIM_PID")
  if ! wait_until 10 grep -q '^fastboot ' "$WORK/$name.out"; then
    echo "droidfix-sim did not start:" >&2
    cat "$WORK/$name.err" >&2
    return 1
  fi
  SIM_ADB=$(awk '/^adb /{print $2}' "$WORK/$name.out")
  SIM_FB=$(awk '/^fastboot /{print $2}' "$WORK/$name.out")
}

sim_stop() {
  kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
  return 0
}

sim_status_field() {
  "$SIM" status --state-dir "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

droidfix_run() {
  local name=$1 recipe=$2
  shift 2
  "$DROIDFIX" run "$DF_SOURCE_DIR/recipes/$recipe.lua" --connect "$SIM_ADB" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
  RUN_RC=$?
}
