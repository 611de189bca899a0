# Shared by the tests/e2e/test_recipe_*.sh files: running a recipe against
# droidfix-sim and reading the sim's own account of the phone. Source it
# after harness.sh.
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

# sim_sizes DIR: from the sim's own state file (not through the phone's
# shell), free space on /data, its size, and the three largest app caches
# ("name size, ..."), each as recipes/lib/parse.lua's human() prints bytes.
# Free space: what the phone's /data holds minus what the sim counts on it
# (the OS and media, app data and caches, files under /data and /sdcard).
sim_sizes() {
  local files
  files=$(du -sb --apparent-size "$1/fs/data" "$1/fs/storage/emulated/0" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  (cd "$DF_SOURCE_DIR" && lua5.4 - "$1/state.lua" "$files" <<'LUA'
package.path = "recipes/lib/?.lua;" .. package.path
local parse = require("parse")
local st = dofile(arg[1])
local used = st.storage_other + tonumber(arg[2])
local caches = {}
for _, p in ipairs(st.packages) do
  used = used + p.data_bytes + p.cache_bytes
  if p.cache_bytes > 0 then caches[#caches + 1] = p end
end
table.sort(caches, function(a, b) return a.cache_bytes > b.cache_bytes end)
print(parse.human(st.storage_total - used))
print(parse.human(st.storage_total))
local big = {}
for i = 1, math.min(3, #caches) do big[i] = caches[i].name .. " " .. parse.human(caches[i].cache_bytes) end
print(table.concat(big, ", "))
LUA
  )
}
