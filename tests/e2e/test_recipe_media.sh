#!/usr/bin/env bash
# recipes/media-process-crash.lua end to end on droidfix-sim: the media
# process crashes at every boot (corrupt provider databases); `droidfix run
# --yes` clears what the guides say, least harmful first, rebooting after
# each, until the crash is gone, with the user's data unchanged. Android 14
# (MediaProvider module in its own process) and Android 10 (legacy
# MediaProvider inside android.process.media).
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

# Both databases corrupt, Redmi K70 (Android 14).
if start def --fault media-process-crash; then
  expect def "fault installed" "$BEFORE_FAULTS" "media-process-crash"
  run_recipe def media-process-crash --yes
  repaired def google-caches fixed download-manager fixed media-storage fixed sync nothing-found \
    app-preferences nothing-found safe-mode nothing-found factory-reset nothing-found
  sim_stop "$SIM_PID"
fi

# Only the Download Manager's database: the media storage data is left alone.
if start dl --fault media-process-crash:downloads-only; then
  run_recipe dl media-process-crash --yes
  repaired dl google-caches fixed download-manager fixed media-storage nothing-found
  sim_stop "$SIM_PID"
fi

# Only the media storage database (Android 14: the module's own process).
if start media --fault media-process-crash:media-only; then
  run_recipe media media-process-crash --yes
  repaired media google-caches fixed download-manager nothing-found media-storage fixed
  sim_stop "$SIM_PID"
fi

# Android 10 (Galaxy S9): the legacy MediaProvider runs in android.process.media.
if start s9 --model samsung/galaxy-s9 --fault media-process-crash; then
  run_recipe s9 media-process-crash --yes
  repaired s9 download-manager fixed media-storage fixed factory-reset nothing-found
  sim_stop "$SIM_PID"
fi

# --dry-run: found (exit 1), nothing changed, no reboot.
if start dry --fault media-process-crash; then
  run_recipe dry media-process-crash --dry-run
  expect dry "exit code" "$RUN_RC" 1
  untouched dry
  expect dry "google-caches planned" "$(outcome_of dry google-caches)" planned
  sim_stop "$SIM_PID"
fi

# A healthy phone: nothing found, exit 0.
if start healthy; then
  run_recipe healthy media-process-crash --yes
  expect healthy "exit code" "$RUN_RC" 0
  untouched healthy
  expect healthy "every step found nothing" "$(outcomes healthy | awk '$2 != "nothing-found"' | wc -l)" 0
  expect healthy "report lists the steps" "$(outcomes healthy | wc -l)" 7
  sim_stop "$SIM_PID"
fi

finish
