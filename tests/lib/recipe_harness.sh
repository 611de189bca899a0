# Shared by the tests/e2e/test_recipe_*.sh files: running a recipe against
# droidfix-sim and reading the sim's own account of the phone. Source it
# after harness.sh.
# sim_status DIR FIELD: one field of `droidfix-sim status` (lists joined by ",").
sim_status() {
  "$SIM" status --state-dir "$1" | jq -r --arg f "$2" '.[$f] | if type == "array" then join(",") else tostring end'
}

# set_master_sync NAME true|false: the person flips "Automatically sync
# data" in Settings > Accounts. Android keeps it in SyncStorageEngine's
# /data/system/sync/accounts.xml (<listenForTickles user="0" enabled=.../>),
# and so does the sim, whose `dumpsys content` reads it; no shell command
# on a phone can do this, so the test writes the file as Settings would.
set_master_sync() {
  local dir="$WORK/$1/fs/data/system/sync"
  mkdir -p "$dir"
  printf '<?xml version="1.0" encoding="utf-8" standalone="yes" ?>\n<accounts version="3" nextAuthorityId="1" offsetInSeconds="0">\n<listenForTickles user="0" enabled="%s" />\n</accounts>\n' \
    "$2" >"$dir/accounts.xml.tmp" && mv "$dir/accounts.xml.tmp" "$dir/accounts.xml"
}

# sync_hand NAME OUT: the person at the phone, once: if droidfix's output
# OUT asks for sync OFF (or ON again) more often than the hand has done it,
# the hand does it (set_master_sync). Counts in SYNC_OFFS and SYNC_ONS.
sync_hand() {
  local n
  n=$(grep -c "turn 'Automatically sync data' OFF" "$2" 2>/dev/null)
  if [ "${n:-0}" -gt "${SYNC_OFFS:-0}" ]; then
    set_master_sync "$1" false
    SYNC_OFFS=$n
  fi
  n=$(grep -c "turn 'Automatically sync data' ON again" "$2" 2>/dev/null)
  if [ "${n:-0}" -gt "${SYNC_ONS:-0}" ]; then
    set_master_sync "$1" true
    SYNC_ONS=$n
  fi
}

# sync_hand_loop NAME OUT: sync_hand every 0.1 s until killed (for runs
# that do not go through run_recipe, e.g. on a pty).
sync_hand_loop() {
  SYNC_OFFS=0
  SYNC_ONS=0
  while :; do
    sync_hand "$1" "$2"
    sleep 0.1
  done
}

# run_recipe NAME RECIPE [ARGS...]: droidfix run against the sim started as
# NAME, with --json into $WORK/NAME.json; answers every "waiting" event for
# an instruction ("for":"instruct") by pressing its combination on the sim,
# as the person would; and, once droidfix has asked for it (its message is
# in the output), turns sync off or on in Settings (set_master_sync), unless
# SYNC_HAND=0. Sets RUN_RC, PRESSED, SYNC_OFFS and SYNC_ONS (how often the
# hand flipped sync off and on).
run_recipe() {
  local name=$1 recipe=$2
  shift 2
  local out="$WORK/$name.json" c
  PRESSED=0
  SYNC_OFFS=0
  SYNC_ONS=0
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
    if [ "${SYNC_HAND:-1}" = 1 ]; then
      sync_hand "$name" "$out"
    fi
    sleep 0.1
  done
  wait "$pid"
  RUN_RC=$?
}

# wipe_hand NAME: in the background, the person in recovery picks "Wipe
# data" once droidfix has asked for it (in $WORK/NAME.json) and the phone
# is in recovery (a hand quicker than that could reboot the phone out of
# recovery before droidfix saw it there, which no person does); gives up
# after 3 minutes. Sets HAND (its pid: kill and wait it after the run).
wipe_hand() {
  local name=$1
  (
    for _ in $(seq 1800); do
      if grep -q "choose 'Wipe data'" "$WORK/$name.json" 2>/dev/null &&
        [ "$(sim_status "$WORK/$name" mode 2>/dev/null)" = recovery ]; then
        "$SIM" press --state-dir "$WORK/$name" wipe-data >/dev/null 2>&1
        exit 0
      fi
      sleep 0.1
    done
  ) &
  HAND=$!
}

# cached_size NAME PKG FIELD: PKG's "data" or "cache" bytes as the phone's
# `dumpsys diskstats` prints them now (the daily snapshot), or "none".
cached_size() {
  local text=""
  # The phone may still be finishing its boot: ask again until it answers.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    text=$("$DROIDFIX" shell --connect "$SIM_ADB" "dumpsys diskstats" 2>/dev/null)
    case "$text" in *Data-Free:*) break ;; esac
    sleep 1
  done
  printf '%s\n' "$text" |
    (cd "$DF_SOURCE_DIR" && PKG=$2 FIELD=$3 lua5.4 -e '
package.path = "recipes/lib/?.lua;" .. package.path
local ds = require("parse").diskstats(io.read("a"))
local p = ds and ds.packages[os.getenv("PKG")]
print(p and string.format("%d", p[os.getenv("FIELD")]) or "none")')
}

# live_data NAME PKG: bytes of PKG's data (with its cache) from the sim's
# own state, not through the phone: the sizes in state.lua plus the files in
# its data folder.
live_data() {
  local files
  files=$(find "$WORK/$1/fs/data/data/$2" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  STATE="$WORK/$1/state.lua" PKG=$2 FILES=$files lua5.4 -e '
local st = dofile(os.getenv("STATE"))
for _, p in ipairs(st.packages) do
  if p.name == os.getenv("PKG") then
    print(string.format("%d", p.data_bytes + p.cache_bytes + tonumber(os.getenv("FILES"))))
    return
  end
end
print("none")'

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
