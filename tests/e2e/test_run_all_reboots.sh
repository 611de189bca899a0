#!/usr/bin/env bash
# `droidfix run --all` over six phones that reboot while other endpoints
# misbehave, three times (a regression test for the SIGSEGV the bench saw
# in 1 of 5 runs of play-store-stuck --all). While a phone reboots its run
# probes every endpoint again and again; one endpoint (adb-hangup.py)
# answers like a phone and hangs up on the probe's getprop, which ends the
# probe from inside the dying connection's teardown, and the probe of a
# phone that is not the one awaited is freed there: the connection then
# called back into the freed device (heap-use-after-free, found under
# ASan; fixed in plugins/adb/adb_conn.c). Every round must end with every
# phone healthy and no crash. Under an ASan build the old bug fails here
# on every round; an ordinary build reads freed memory, and crashed only
# sometimes.
source "$(dirname "$0")/../lib/harness.sh"

RECIPE="$DF_SOURCE_DIR/tests/fixtures/recipes/reboot-wait.lua"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # not a slow shim
N=6
conns=()
for ((i = 0; i < N; i++)); do
  sim_start "phone$i" --boot-ms 100 --serial "PHONE0$i" || { bad "droidfix-sim $i starts"; finish; }
  conns+=(--connect "$SIM_ADB")
done

# The ADB key is made once, before the rounds (slow on a loaded machine).
"$DROIDFIX" devices "${conns[@]:0:2}" >/dev/null 2>&1
for round in 1 2 3; do
  "$PY" "$DF_SOURCE_DIR/tests/e2e/adb-hangup.py" 0.3 2 >"$WORK/hangup$round.out" 2>&1 &
  hang=$!
  SIM_PIDS+=("$hang")
  wait_until 20 grep -q '^adb ' "$WORK/hangup$round.out"
  H=$(awk '/^adb /{print $2}' "$WORK/hangup$round.out")
  timeout 120 "$DROIDFIX" run "$RECIPE" --all --yes "${conns[@]}" --connect "$H" \
    >"$WORK/r$round.out" 2>"$WORK/r$round.err"
  rc=$?
  if [ $rc -ge 128 ] || grep -q 'AddressSanitizer\|runtime error' "$WORK/r$round.err"; then
    bad "round $round: droidfix crashed (exit $rc)"
    grep -v '^\[PHONE' "$WORK/r$round.err" | tail -30
  else
    ok "round $round: no crash (exit $rc)"
  fi
  # On a loaded machine a phone may miss the first look (run --all then
  # runs on the others); every phone that ran must end healthy.
  ran=$(grep -c '^status: ' "$WORK/r$round.out")
  healthy=$(grep -c '^status: healthy' "$WORK/r$round.out")
  if [ "$rc" -eq 0 ] && [ "$ran" -ge 1 ] && [ "$healthy" -eq "$ran" ]; then
    ok "round $round: the $ran phones found rebooted twice and ended healthy"
  else
    bad "round $round: $healthy of $ran healthy (exit $rc)"
    grep -E '^status|failed|error' "$WORK/r$round.out" "$WORK/r$round.err" | head -10
  fi
  sim_stop "$hang"
done
finish
