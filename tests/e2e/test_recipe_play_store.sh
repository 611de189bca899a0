#!/usr/bin/env bash
# recipes/play-store-stuck.lua end to end on droidfix-sim: each scenario of
# tests/sim/faults/play-store-stuck.lua is repaired by `droidfix run --yes`
# with no fault left and the user's data unchanged; --dry-run changes
# nothing; a healthy phone gives nothing to fix.
source "$(dirname "$0")/../lib/harness.sh"
# ---- shared by the test_recipe_*.sh files (kept in each: a test is one file) ----
# sim_status DIR FIELD: one field of `droidfix-sim status` (lists joined by ",").
sim_status() {
  "$SIM" status --state-dir "$1" | jq -r --arg f "$2" '.[$f] | if type == "array" then join(",") else tostring end'
}

# run_recipe NAME RECIPE [ARGS...]: droidfix run against the sim started as
# NAME, with --json into $WORK/NAME.json; answers every "waiting" event for
# an instruction ("for":"instruct") by pressing its combination on the sim,
# as the person would. Sets RUN_RC and PRESSED.
run_recipe() {
  local name=$1 recipe=$2
  shift 2
  local out="$WORK/$name.json" c
  PRESSED=0
  : >"$out"
  "$DROIDFIX" run "$DF_SOURCE_DIR/recipes/$recipe.lua" --connect "$SIM_ADB" --connect "$SIM_FB" --json "$@" \
    >"$out" 2>"$WORK/$name.run.err" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for c in $(jq -r 'select(.event == "waiting" and .for == "instruct") | .combo' "$out" 2>/dev/null |
      tail -n +$((PRESSED + 1))); do
      "$SIM" press --state-dir "$WORK/$name" "$c" >/dev/null
      PRESSED=$((PRESSED + 1))
    done
    sleep 0.1
  done
  wait "$pid"
  RUN_RC=$?
}

# outcomes NAME: "step-id outcome" lines of the finished event's report.
outcomes() {
  jq -r 'select(.event == "finished") | (.report // .) | .steps[] | "\(.id) \(.outcome)"' "$WORK/$1.json"
}

# outcome_of NAME STEP: that step's outcome ("fixed", "nothing-found" ...).
outcome_of() {
  outcomes "$1" | awk -v s="$2" '$1 == s { print $2 }'
}

# report_text NAME: the finished event (its report's messages), to grep.
report_text() {
  jq -c 'select(.event == "finished")' "$WORK/$1.json"
}

# expect NAME WHAT ACTUAL WANTED
expect() {
  if [ "$3" = "$4" ]; then ok "$1: $2"; else bad "$1: $2 (got '$3', want '$4')"; fi
}

# start NAME SIMARGS...: starts the sim, records faults, digest, boot count.
start() {
  local name=$1
  shift
  sim_start "$name" "$@" || { bad "$name: sim did not start"; return 1; }
  BEFORE_FAULTS=$(sim_status "$WORK/$name" faults)
  BEFORE_SHA=$(sim_status "$WORK/$name" user_data_sha256)
  BEFORE_BOOTS=$(sim_status "$WORK/$name" boot_count)
}

# repaired NAME [STEP OUTCOME]...: droidfix run fixed the phone: exit 0, no
# faults, user data unchanged, and each STEP has OUTCOME in the report.
repaired() {
  local name=$1 f0=$FAILED
  shift
  expect "$name" "exit code" "$RUN_RC" 0
  expect "$name" "faults afterwards" "$(sim_status "$WORK/$name" faults)" ""
  expect "$name" "user data unchanged" "$(sim_status "$WORK/$name" user_data_sha256)" "$BEFORE_SHA"
  expect "$name" "phone in system mode" "$(sim_status "$WORK/$name" mode)" "system"
  while [ $# -ge 2 ]; do
    expect "$name" "step $1" "$(outcome_of "$name" "$1")" "$2"
    shift 2
  done
  if [ "$FAILED" -gt "$f0" ]; then
    echo "--- $name report:"; outcomes "$name" | sed 's/^/    /'
    tail -5 "$WORK/$name.run.err" | sed 's/^/    err: /'
  fi
}

# untouched NAME: the phone is as it was (faults, data, no reboot).
untouched() {
  local name=$1
  expect "$name" "faults unchanged" "$(sim_status "$WORK/$name" faults)" "$BEFORE_FAULTS"
  expect "$name" "user data unchanged" "$(sim_status "$WORK/$name" user_data_sha256)" "$BEFORE_SHA"
  expect "$name" "not rebooted" "$(sim_status "$WORK/$name" boot_count)" "$BEFORE_BOOTS"
}
# ---- end of shared part ----

# The default mix: a stale queue in the Play Store's cache, the clock 400
# days behind with automatic time off, /data nearly full.
if start def --fault play-store-stuck; then
  expect def "fault installed" "$BEFORE_FAULTS" "play-store-stuck"
  run_recipe def play-store-stuck --yes
  repaired def storage fixed clock fixed play-store-cache fixed connectivity nothing-found \
    download-manager nothing-found play-store-data nothing-found downloads-proceed nothing-found
  sim_stop "$SIM_PID"
fi

# --dry-run: the problems are found (exit 1), nothing changes.
if start dry --fault play-store-stuck; then
  run_recipe dry play-store-stuck --dry-run
  expect dry "exit code" "$RUN_RC" 1
  untouched dry
  expect dry "storage planned" "$(outcome_of dry storage)" planned
  expect dry "clock planned" "$(outcome_of dry clock)" planned
  sim_stop "$SIM_PID"
fi

# A healthy phone: nothing found, exit 0, no reboot.
if start healthy; then
  run_recipe healthy play-store-stuck --yes
  expect healthy "exit code" "$RUN_RC" 0
  untouched healthy
  expect healthy "every step found nothing" "$(outcomes healthy | awk '$2 != "nothing-found"' | wc -l)" 0
  expect healthy "report lists the steps" "$(outcomes healthy | wc -l)" 10
  sim_stop "$SIM_PID"
fi

# The Download Manager disabled by the user.
if start dmoff --fault play-store-stuck:dm-disabled; then
  run_recipe dmoff play-store-stuck --yes
  repaired dmoff download-manager fixed storage nothing-found clock nothing-found
  sim_stop "$SIM_PID"
fi

# A stale queue in the Play Store's data: the cache is not enough, its data
# is cleared after a reboot shows downloads still pending.
if start qdata --fault play-store-stuck:stale-queue-data; then
  run_recipe qdata play-store-stuck --yes
  repaired qdata play-store-cache fixed play-store-data fixed
  sim_stop "$SIM_PID"
fi

# Stuck downloads in the Download Manager's queue.
if start dmq --fault play-store-stuck:dm-queue; then
  run_recipe dmq play-store-stuck --yes
  repaired dmq download-queue fixed play-store-data nothing-found
  sim_stop "$SIM_PID"
fi

# Every cause at once (an outdated Play Store too, which updates itself once
# nothing blocks downloads), on a Samsung.
if start all --model samsung/galaxy-s22 --fault play-store-stuck:all; then
  run_recipe all play-store-stuck --yes
  repaired all storage fixed clock fixed download-manager fixed play-store-cache fixed \
    play-store-data fixed download-queue fixed play-store-version nothing-found
  sim_stop "$SIM_PID"
fi

finish
