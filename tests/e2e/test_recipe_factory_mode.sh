#!/usr/bin/env bash
# recipes/factory-mode-exit.lua end to end on droidfix-sim: a Samsung with
# root (the /efs flags rewritten), a Samsung without root (the factory test
# app's data), a Xiaomi (the CIT app), and a stuck volume key that no
# software fixes (the recipe names the key and exits 1).
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

# Samsung, rooted: /efs/FactoryApp/factorymode holds OFF.
if start sroot --model samsung/galaxy-s22 --rooted --fault factory-mode; then
  expect sroot "starts in factory mode" "$(sim_status "$WORK/sroot" mode)" "factory-mode"
  run_recipe sroot factory-mode-exit --yes
  repaired sroot efs-flags fixed test-app-data nothing-found still-factory-mode nothing-found
  sim_stop "$SIM_PID"
fi

# Samsung, not rooted: the factory test app's saved state.
if start sapp --model samsung/galaxy-s22 --fault factory-mode:app-data; then
  run_recipe sapp factory-mode-exit --yes
  repaired sapp efs-flags nothing-found test-app-data fixed still-factory-mode nothing-found
  sim_stop "$SIM_PID"
fi

# Samsung, not rooted, with the /efs flag: the shell cannot reach /efs, so
# the recipe does not claim a fix and says root (or a reflash) is needed.
if start sefs --model samsung/galaxy-s22 --fault factory-mode:efs; then
  run_recipe sefs factory-mode-exit --yes
  expect sefs "exit code" "$RUN_RC" 1
  expect sefs "still-factory-mode" "$(outcome_of sefs still-factory-mode)" not-fixed
  if report_text sefs | grep -q "root"; then ok "sefs: report says root is needed"; else bad "sefs: report says root is needed"; fi
  expect sefs "user data unchanged" "$(sim_status "$WORK/sefs" user_data_sha256)" "$BEFORE_SHA"
  sim_stop "$SIM_PID"
fi

# Xiaomi: CIT starts at boot.
if start cit --fault factory-mode; then
  run_recipe cit factory-mode-exit --yes
  repaired cit efs-flags nothing-found test-app-data fixed still-factory-mode nothing-found
  sim_stop "$SIM_PID"
fi

# A volume key held down: no software fix; the report names the key.
if start key --fault factory-mode:stuck-key; then
  run_recipe key factory-mode-exit --yes
  expect key "exit code" "$RUN_RC" 1
  expect key "still-factory-mode" "$(outcome_of key still-factory-mode)" not-fixed
  if report_text key | grep -q "volume key"; then ok "key: report names a stuck volume key"; else bad "key: report names a stuck volume key"; fi
  expect key "user data unchanged" "$(sim_status "$WORK/key" user_data_sha256)" "$BEFORE_SHA"
  sim_stop "$SIM_PID"
fi

# --dry-run: found, nothing changed.
if start dry --fault factory-mode; then
  run_recipe dry factory-mode-exit --dry-run
  expect dry "exit code" "$RUN_RC" 1
  untouched dry
  expect dry "test-app-data planned" "$(outcome_of dry test-app-data)" planned
  sim_stop "$SIM_PID"
fi

# A healthy phone.
if start healthy --model samsung/galaxy-s22 --rooted; then
  run_recipe healthy factory-mode-exit --yes
  expect healthy "exit code" "$RUN_RC" 0
  untouched healthy
  expect healthy "every step found nothing" "$(outcomes healthy | awk '$2 != "nothing-found"' | wc -l)" 0
  sim_stop "$SIM_PID"
fi

finish
