#!/usr/bin/env bash
# droidfix-sim's command line: serve prints its two ports, status is one JSON
# object, press reboots the running phone, two sims run at once, a restart
# keeps the state, and bad arguments get clear errors.
set -u
BIN=${DF_BIN_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
SIM="$BIN/droidfix-sim"
TMP=$(mktemp -d /tmp/df-sim-cli-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# Starts a sim in dir $1 with more args; waits for its two lines.
start_sim() {
  local dir=$1; shift
  "$SIM" serve --state-dir "$dir" --boot-ms 50 "$@" >"$dir.out" 2>"$dir.err" &
  PIDS+=($!)
  LAST_PID=$!
  for _ in $(seq 1 100); do
    [ "$(grep -c '' "$dir.out" 2>/dev/null)" -ge 2 ] && return 0
    kill -0 "$LAST_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

stop_sim() {
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

field() { # field DIR NAME: a top-level string (or, for faults, list) of status
  # (read with sed: python3 starts slowly; JSON validity is checked apart)
  local json
  json=$("$SIM" status --state-dir "$1") || return 1
  if [ "$2" = faults ]; then
    printf '%s' "$json" | sed -n 's/.*"faults": \[\([^]]*\)\].*/\1/p' | tr -d '" '
  else
    printf '%s' "$json" | sed -n "s/.*\"$2\": \"\([^\"]*\)\".*/\1/p"
  fi
}

wait_mode() { # wait_mode DIR MODE: true once status shows MODE (bounded)
  for _ in $(seq 1 100); do
    [ "$(field "$1" mode)" = "$2" ] && return 0
    sleep 0.05
  done
  return 1
}

A="$TMP/a"
check "serve starts" "start_sim '$A'"
PID_A=$LAST_PID
check "serve prints exactly two lines" "[ \$(grep -c '' '$A.out') -eq 2 ]"
check "first line is adb 127.0.0.1:PORT" "head -1 '$A.out' | grep -Eq '^adb 127\.0\.0\.1:[0-9]+$'"
check "second line is fastboot 127.0.0.1:PORT" "sed -n 2p '$A.out' | grep -Eq '^fastboot 127\.0\.0\.1:[0-9]+$'"
check "status is valid JSON" "'$SIM' status --state-dir '$A' | python3 -m json.tool >/dev/null"
check "status names the default model" "[ \"\$(field '$A' model)\" = xiaomi/redmi-k70 ]"
check "status has the codename" "[ \"\$(field '$A' codename)\" = vermeer ]"
check "status mode is system" "[ \"\$(field '$A' mode)\" = system ]"
check "a healthy phone has no faults" "[ -z \"\$(field '$A' faults)\" ]"
check "user_data_sha256 is 64 hex digits" "field '$A' user_data_sha256 | grep -Eq '^[0-9a-f]{64}$'"
check "partitions list boot_a" "'$SIM' status --state-dir '$A' | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"partitions\"]; sys.exit(0 if p[\"boot_a\"][\"size\"] > 0 and len(p[\"boot_a\"][\"sha256\"]) == 64 else 1)'"
SERIAL_A=$(field "$A" serial)

check "a second serve in the same folder is refused" "! '$SIM' serve --state-dir '$A' >/dev/null 2>'$TMP/dup.err'"
check "and says which pid serves it" "grep -q 'another droidfix-sim (pid $PID_A)' '$TMP/dup.err'"

B="$TMP/b"
check "a second sim in another folder starts" "start_sim '$B' --model samsung/galaxy-s22 --fault factory-mode --serial R5CT0001"
PID_B=$LAST_PID
check "the two sims use different ports" "[ \"\$(head -1 '$A.out')\" != \"\$(head -1 '$B.out')\" ]"
check "the second sim is a Galaxy S22" "[ \"\$(field '$B' codename)\" = r0s ]"
check "with its serial" "[ \"\$(field '$B' serial)\" = R5CT0001 ]"
check "and its fault" "[ \"\$(field '$B' faults)\" = factory-mode ]"
check "in factory mode" "[ \"\$(field '$B' mode)\" = factory-mode ]"

check "press fastboot succeeds on the Redmi" "'$SIM' press --state-dir '$A' fastboot"
check "the Redmi reboots to the bootloader" "wait_mode '$A' bootloader"
check "press fastboot is refused on the Galaxy" "! '$SIM' press --state-dir '$B' fastboot 2>'$TMP/press.err'"
check "with a clear message" "grep -q \"has no 'fastboot' button combination\" '$TMP/press.err'"
check "press download works on the Galaxy" "'$SIM' press --state-dir '$B' download && wait_mode '$B' download"

stop_sim "$PID_A"
check "press without a running sim fails" "! '$SIM' press --state-dir '$A' recovery 2>'$TMP/nosim.err'"
check "and says no sim runs" "grep -q 'no droidfix-sim is running' '$TMP/nosim.err'"
check "status works with the sim stopped" "'$SIM' status --state-dir '$A' | python3 -m json.tool >/dev/null"
check "a restarted sim starts" "start_sim '$A'"
PID_A=$LAST_PID
check "it keeps its serial" "[ \"\$(field '$A' serial)\" = '$SERIAL_A' ]"
check "and its mode" "[ \"\$(field '$A' mode)\" = bootloader ]"
check "press recovery works" "'$SIM' press --state-dir '$A' recovery && wait_mode '$A' recovery"
stop_sim "$PID_A"
stop_sim "$PID_B"

C="$TMP/c"
check "serve with a fault starts" "start_sim '$C' --fault media-process-crash --fault play-store-stuck"
PID_C=$LAST_PID
check "status lists both faults" "[ \"\$(field '$C' faults)\" = 'media-process-crash,play-store-stuck' ]"
stop_sim "$PID_C"

# Bad arguments: non-zero exit and a message naming the problem.
bad_args() { # bad_args NAME EXPECTED-TEXT ARGS...
  local name=$1 text=$2; shift 2
  if "$SIM" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"; then
    bad "$name exits non-zero"
  elif grep -q -- "$text" "$TMP/bad.err"; then
    ok "$name"
  else
    bad "$name (stderr: $(cat "$TMP/bad.err"))"
  fi
}
bad_args "no command" "usage:"
bad_args "unknown command" "unknown command 'fly'" fly
bad_args "serve without --state-dir" "needs --state-dir" serve
bad_args "unknown option" "unknown option '--bogus'" serve --state-dir "$TMP/d" --bogus
bad_args "bad port" "bad --adb-port 'x'" serve --state-dir "$TMP/d" --adb-port x
bad_args "bad auth" "bad --auth 'maybe'" serve --state-dir "$TMP/d" --auth maybe
bad_args "unknown model" "no device file" serve --state-dir "$TMP/e" --model nokia/3310
bad_args "unknown fault" "unknown fault 'gremlins'" serve --state-dir "$TMP/f" --fault gremlins
bad_args "status of no phone" "no simulated phone in" status --state-dir "$TMP/none"
bad_args "press without combo" "press needs a COMBO" press --state-dir "$A"
bad_args "model of another phone" "is a xiaomi/redmi-k70" serve --state-dir "$A" --model samsung/galaxy-s22
check "--help prints usage" "'$SIM' --help | grep -q 'droidfix-sim serve --state-dir DIR'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
