#!/usr/bin/env bash
# Keeps `make run` true: tests/e2e/make-run.sh (what the Makefile runs) must
# end with the simulated phone healthy, its user data unchanged, droidfix's
# report printed, and no simulator left running.
source "$(dirname "$0")/../lib/harness.sh"

bash "$DF_SOURCE_DIR/tests/e2e/make-run.sh" "$DF_BIN_DIR" >"$WORK/run.out" 2>"$WORK/run.err"
RC=$?
if [ "$RC" -eq 0 ]; then ok "make-run.sh exits 0"; else bad "make-run.sh exits 0 (got $RC)"; fi
check "it shows the fault before" grep -q "faults: play-store-stuck" "$WORK/run.out"
check "it runs the recipe" grep -q "droidfix run recipes/play-store-stuck.lua" "$WORK/run.out"
check "droidfix exits 0" grep -q "droidfix exited with 0" "$WORK/run.out"
check "it shows the phone healthy after" grep -q "faults: none: the phone is healthy" "$WORK/run.out"
check "it says the data is unchanged" grep -q "Repaired: no fault left" "$WORK/run.out"
# The report: the steps the recipe fixed are named in droidfix's output.
check "the report names the storage step" grep -qi "storage\|space on /data" "$WORK/run.out"
check "the report names the clock step" grep -qi "clock\|date and time" "$WORK/run.out"
# The sizes it prints are the sim's (tests/sim/phone_default.lua: /data of
# 226 GiB; faults/play-store-stuck.lua: 300 MiB left free, Spotify's cache
# 9 GiB; pm trim-caches 4096M stops once 4 GiB are free).
check "it prints /data's real free space and size" grep -q "only 300 MB free on /data (of 226 GB)" "$WORK/run.out"
check "it prints Spotify's real cache size" grep -q "largest caches: com.spotify.music 9.0 GB" "$WORK/run.out"
check "it prints the free space trimming left" grep -q "pm trim-caches 4096M: now 4.0 GB free" "$WORK/run.out"
# Its simulator is stopped and its temporary folder removed.
DEMO_DIR=$(grep -o '/tmp/droidfix-run\.[A-Za-z0-9]*' "$WORK/run.out" | head -1)
if [ -n "$DEMO_DIR" ]; then ok "it names its state folder"; else bad "it names its state folder"; fi
if [ -n "$DEMO_DIR" ] && [ ! -e "$DEMO_DIR" ]; then ok "temporary folder removed"; else bad "temporary folder removed ($DEMO_DIR)"; fi
if [ -n "$DEMO_DIR" ] && ! pgrep -f -- "--state-dir $DEMO_DIR/phone" >/dev/null; then
  ok "simulator stopped"
else
  bad "simulator stopped"
fi
if [ "$RC" -ne 0 ]; then sed 's/^/    out: /' "$WORK/run.out" | tail -40; sed 's/^/    err: /' "$WORK/run.err" | tail -20; fi
finish
