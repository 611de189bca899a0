#!/usr/bin/env bash
# A phone that stops answering during a shell command (issue 8): `droidfix
# shell`, a recipe's dev:shell calls (recipes/play-store-stuck.lua through
# `droidfix run`) and the backup's shell part (recipes/backup.lua: pm list,
# dumpsys, settings). droidfix-sim stalls (stops reading) at a chosen byte,
# armed with `droidfix-sim netfault`; DROIDFIX_STALL_TIMEOUT=2. For every
# point: droidfix ends by itself (a hang is cut at 60 s and fails), exits
# non-zero, says "shell 'CMD': the phone sent nothing for 2 s", reports no
# success, and the same command run again succeeds.
#
# A command that runs long and prints nothing must not be stopped: against
# tests/e2e/adb-slow-shell.py, `sleep 5` (silent for 5 s, more than the
# timeout) succeeds on a phone that answers droidfix's liveness check, and
# is stopped on one that does not (the check is what tells them apart).
source "$(dirname "$0")/../lib/harness.sh"

export DROIDFIX_STALL_TIMEOUT=2
export DROIDFIX_BACKUP_DIR="$WORK/auto-backups"
PY=${PYTHON:-python3}
sim_start phone --boot-ms 100 || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
SDCARD="$WORK/phone/fs/storage/emulated/0"
STALLED="shell '.+': the phone sent nothing for 2 s"

BEFORE_RERUN=true # a shell function run between the faulted run and the rerun
# stall_over SPEC: waits until the stall (ms=N) is surely over. It fired at
# least DROIDFIX_STALL_TIMEOUT (2 s) before droidfix gave up, so N/1000 - 1
# seconds after that. Until then the stalled connection is alive in the
# sim: when it reads again it sends what it still had. (A fault armed for
# the next point no longer fires there: arms apply to connections started
# after them; the wait keeps the old connection's late output away from
# the next point.)
stall_over() {
  local ms=${1##*ms=}
  [ "$ms" != "$1" ] && sleep $((ms / 1000 - 1))
  return 0
}
arm() { "$SIM" netfault --state-dir "$WORK/phone" "$1"; }
# op ARGS...: droidfix, cut at 60 s (a hang is what this test looks for).
op() { timeout 60 "$DROIDFIX" "$@" >"$WORK/op.out" 2>"$WORK/op.err"; RC=$?; }

# point NAME SPEC ERROR_RE RERUN_CHECK ARGS...: arm SPEC, run droidfix
# ARGS, expect a failure whose stderr matches ERROR_RE; then the same run
# again must exit 0 and pass RERUN_CHECK (a shell function).
point() {
  local name=$1 spec=$2 re=$3 rerun=$4 problems=""
  shift 4
  arm "$spec" || problems+=" cannot arm"
  local start=$SECONDS
  op "$@"
  local took=$((SECONDS - start))
  [ "$RC" -ne 124 ] || problems+=" droidfix hung (cut after 60 s)"
  [ "$RC" -ne 0 ] || problems+=" exit 0"
  grep -Eq "$re" "$WORK/op.err" || problems+=" no '$re' in the error"
  if grep -Eq ': done,|"ok": ?true|status: healthy|status: repaired' "$WORK/op.out" "$WORK/op.err"; then
    problems+=" a success was reported"
  fi
  cp "$WORK/op.err" "$WORK/fault.err"
  stall_over "$spec"
  "$BEFORE_RERUN" || problems+=" $BEFORE_RERUN failed"
  op "$@"
  [ "$RC" -eq 0 ] || problems+=" the rerun failed ($RC)"
  "$rerun" || problems+=" the rerun's result is wrong"
  if [ -z "$problems" ]; then
    ok "$name, $spec: failed in ${took}s, the rerun succeeded"
  else
    bad "$name, $spec:$problems"
    sed 's/^/    err: /' "$WORK/fault.err" | head -6
    sed 's/^/    rerun: /' "$WORK/op.err" | head -4
  fi
}

# ---- droidfix shell. A 2 MiB file printed by `cat`: the phone sends it in
# WRTEs, each waiting for droidfix's OKAY; a stall on the phone's sent bytes
# inside it leaves the command half done and the phone silent.
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SDCARD/big.bin"
BIG_SHA=$(sha256sum <"$SDCARD/big.bin" | cut -d' ' -f1)
cat_ok() { [ "$(sha256sum <"$WORK/op.out" | cut -d' ' -f1)" = "$BIG_SHA" ]; }
point "shell, in the middle of the output" "stall:1000000:adb:out:ms=4000" \
  "shell 'cat /sdcard/big.bin': the phone sent nothing for 2 s" cat_ok \
  shell "${C[@]}" cat /sdcard/big.bin
point "shell, later in the output" "stall:1500000:adb:out:ms=4000" \
  "shell 'cat /sdcard/big.bin': the phone sent nothing for 2 s" cat_ok \
  shell "${C[@]}" cat /sdcard/big.bin
check "droidfix shell's failure says what to do (not only 'timed out')" \
  grep -q "check the cable and that the phone is awake" "$WORK/fault.err"

# ---- the backup's shell part: after the check (its `dumpsys account`
# may fail: the recipe goes on without the accounts) and the folder
# listing, pm list packages and a `dumpsys package` per app take the
# phone's sent bytes from about 1000 to 5500 of 9000 (the file copies come
# after). The stall lasts 6 s, longer than two commands that meet it (the
# check's `dumpsys account` may fail without ending the run), so the run
# fails whichever shell it meets first.
BK="$WORK/bk.tar"
backup_ok() { [ -s "$BK" ] && tar -tf "$BK" | grep -q MANIFEST; }
# The failed backup left neither the archive nor its .partial.
no_backup_left() {
  local left=0
  [ -e "$BK" ] || [ -e "$BK.partial" ] && left=1
  rm -f "$BK" "$BK.partial"
  [ "$left" -eq 0 ]
}
BEFORE_RERUN=no_backup_left
for n in 2000 3000 5000; do
  rm -f "$BK" "$BK.partial"
  point "backup" "stall:$n:adb:out:ms=6000" "$STALLED" backup_ok \
    run "$DF_SOURCE_DIR/recipes/backup.lua" "${C[@]}" --param output="$BK" \
    --param folders=/sdcard/Documents
done
check "the backup's failure names its step" grep -q "take-backup" "$WORK/fault.err"
BEFORE_RERUN=true

# ---- a recipe's dev:shell (play-store-stuck's checks, all shell calls on
# a healthy phone: about 1.4 KB into the phone, 2.3 KB out of it).
healthy() { grep -q 'status: healthy' "$WORK/op.out"; }
RECIPE_PS="$DF_SOURCE_DIR/recipes/play-store-stuck.lua"
for n in 200 600 1000; do
  point "run play-store-stuck" "stall:$n:adb:in:ms=4000" "$STALLED" healthy \
    run "$RECIPE_PS" --yes "${C[@]}"
done
check "the recipe's failure names the step" grep -q "step '" "$WORK/fault.err"

# ---- a silent command on a live phone is not stopped; on a deaf one it is
for mode in answer deaf; do
  "$PY" "$DF_SOURCE_DIR/tests/e2e/adb-slow-shell.py" "$mode" >"$WORK/slow-$mode.out" 2>&1 &
  SIM_PIDS+=("$!")
  wait_until 20 grep -q '^adb ' "$WORK/slow-$mode.out" || bad "adb-slow-shell.py $mode starts"
done
SLOW=$(awk '/^adb /{print $2}' "$WORK/slow-answer.out")
DEAF=$(awk '/^adb /{print $2}' "$WORK/slow-deaf.out")
op shell --connect "$SLOW" sleep 5
if [ "$RC" -eq 0 ]; then
  ok "sleep 5 (silent for more than the 2 s timeout) finishes on a phone that answers the check"
else
  bad "sleep 5 on a live phone (exit $RC)"
  sed 's/^/    err: /' "$WORK/op.err" | head -4
fi
op shell --connect "$DEAF" sleep 5
if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q "shell 'sleep 5': the phone sent nothing for 2 s" "$WORK/op.err"; then
  ok "sleep 5 on a phone that answers nothing is stopped with the stall message"
else
  bad "sleep 5 on a deaf phone (exit $RC)"
  sed 's/^/    err: /' "$WORK/op.err" | head -4
fi

finish
