#!/usr/bin/env bash
# A destructive step's typed confirmation on a terminal (script(1) gives
# droidfix a pty): "y" is not the code and stops the run; the exact code
# lets it go on; without a terminal and without --yes it is refused.
source "$(dirname "$0")/../lib/harness.sh"

sim_start phone --boot-ms 100 || { bad "droidfix-sim starts"; finish; }
RECIPE="$DF_SOURCE_DIR/tests/fixtures/recipes/typed-confirm.lua"
on_tty() { printf '%s\n' "$1" | script -qec "'$DROIDFIX' run '$RECIPE' --connect $SIM_ADB" /dev/null; }

on_tty y >"$WORK/y.out" 2>&1
check "typing y instead of the code stops the step" grep -q "declined" "$WORK/y.out"
check "... and the run ends failed" grep -q "status: failed" "$WORK/y.out"
on_tty 000000 >"$WORK/code.out" 2>&1
check "the exact code lets the step go on" grep -q "status: healthy" "$WORK/code.out"
"$DROIDFIX" run "$RECIPE" --connect "$SIM_ADB" </dev/null >"$WORK/notty.out" 2>&1
check "without a terminal and without --yes the step is refused (exit 2)" test $? -eq 2
finish
