#!/usr/bin/env bash
# Questions on the terminal do not stop the loop (cli/ask.c): under --all,
# while one phone waits for its answer on a pty (script(1)), another phone's
# run goes on to its end; each question names its phone; when several
# phones ask, one question is on the terminal at a time.
source "$(dirname "$0")/../lib/harness.sh"

RECIPE="$DF_SOURCE_DIR/tests/fixtures/recipes/ask-one-phone.lua"
sim_start asker --boot-ms 100 --serial ASKER01 || { bad "droidfix-sim starts"; finish; }
A=$SIM_ADB
sim_start worker --boot-ms 100 --serial WORKER01 || { bad "droidfix-sim starts"; finish; }
B=$SIM_ADB

prompts_at_least() { [ "$(grep -o '\[y/N\]' "$1" 2>/dev/null | wc -l)" -ge "$2" ]; }

# feed OUT MARK ANSWER...: for each answer, waits (30 s at most) until OUT
# holds one more "[y/N]" prompt than answered, notes what OUT held then in
# MARK.N, and types the answer.
feed() {
  local out=$1 mark=$2 n=0 a
  shift 2
  for a in "$@"; do
    n=$((n + 1))
    wait_until 30 prompts_at_least "$out" "$n"
    sleep 0.5 # a second prompt shown too early would be seen here
    cp "$out" "$mark.$n"
    printf '%s\n' "$a"
  done
  sleep 1
}
on_tty() { # on_tty OUT ARGS... (runs droidfix run on a pty, stdin from the feeder)
  local out=$1
  shift
  script -qefc "'$DROIDFIX' run '$RECIPE' --all --connect $A --connect $B $*" /dev/null >"$out" 2>&1
}

# One phone asks; the other works through its steps while it waits.
feed "$WORK/one.out" "$WORK/one.mark" y | on_tty "$WORK/one.out" --param asker=ASKER01
rc=$?
check "the run ends healthy after the answer (exit 0)" test $rc -eq 0
check "the question names its phone" grep -q '\[ASKER01\] Is the asker.s screen on? \[y/N\]' "$WORK/one.out"
check "while the asker waited, the other phone finished its run" \
  grep -q 'ask-one-phone on WORKER01' "$WORK/one.mark.1"
check "... after its three shell commands" grep -q 'worker step3' "$WORK/one.mark.1"
check "the asker had not gone on before its answer" \
  sh -c "! grep -q 'answered' '$WORK/one.mark.1'"
check "the answer reached the asking phone" grep -q '\[ASKER01\] *answered true' "$WORK/one.out"

# Both ask: one question at a time, each answered on its own.
feed "$WORK/two.out" "$WORK/two.mark" y n | on_tty "$WORK/two.out" --param asker=all
check "two phones' questions: one on the terminal at a time" \
  test "$(grep -o '\[y/N\]' "$WORK/two.mark.1" | wc -l)" -eq 1
check "... then the second" test "$(grep -o '\[y/N\]' "$WORK/two.out" | wc -l)" -eq 2
check "the first answer went to the first phone asked, the second to the other" \
  sh -c "grep -q 'answered true' '$WORK/two.out' && grep -q 'answered false' '$WORK/two.out'"

# No terminal: the question is not asked, the run says so.
"$DROIDFIX" run "$RECIPE" --all --connect "$A" --connect "$B" --param asker=ASKER01 </dev/null \
  >"$WORK/notty.out" 2>&1
check "without a terminal nobody is asked (the worker still ends healthy)" \
  grep -q 'ask-one-phone on WORKER01' "$WORK/notty.out"
finish
