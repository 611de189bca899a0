#!/usr/bin/env bash
# recipes/play-store-stuck.lua end to end on droidfix-sim: each scenario of
# tests/sim/faults/play-store-stuck.lua is repaired by `droidfix run --yes`
# with no fault left and the user's data unchanged; --dry-run changes
# nothing; a healthy phone gives nothing to fix. The per-app sizes come from
# Android's storage count (dumpsys diskstats): when it is of unknown age (no
# count since the phone started) the storage fix has Android count again
# (cmd jobscheduler run) and reports from that count; when Android counted
# minutes ago, it does not.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

COUNT_JOB="cmd jobscheduler run -f android 1145656139"
UNKNOWN_AGE="Android's storage count, of unknown age: it counts about once a day while charging, not since the phone started"

# human BYTES: as recipes/lib/parse.lua's human() prints them.
human() {
  (cd "$DF_SOURCE_DIR" && BYTES=$1 lua5.4 -e 'package.path = "recipes/lib/?.lua;" .. package.path
print(require("parse").human(tonumber(os.getenv("BYTES"))))')
}

# live_cache NAME PKG: bytes of PKG's cache from the sim's own state.
live_cache() {
  local files
  files=$(find "$WORK/$1/fs/data/data/$2/cache" "$WORK/$1/fs/data/data/$2/code_cache" -type f -printf '%s\n' 2>/dev/null |
    awk '{ s += $1 } END { print s + 0 }')
  STATE="$WORK/$1/state.lua" PKG=$2 FILES=$files lua5.4 -e '
for _, p in ipairs(dofile(os.getenv("STATE")).packages) do
  if p.name == os.getenv("PKG") then print(string.format("%d", p.cache_bytes + tonumber(os.getenv("FILES")))) return end
end
print("none")'
}

# last_count NAME: the DiskStats job's "Last successful run" in the phone's
# `dumpsys jobscheduler android`, or "".
last_count() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "dumpsys jobscheduler android" 2>/dev/null |
    sed -n 's/^ *Last successful run: //p' | head -1
}


# The default mix: a stale queue in the Play Store's cache, the clock 400
# days behind with automatic time off, /data nearly full.
if start def --fault play-store-stuck; then
  expect def "fault installed" "$BEFORE_FAULTS" "play-store-stuck"
  # What the sim holds (its state file), as people read it: /data's size,
  # the largest caches. The report must say the same numbers.
  WANT_SIZES=$(sim_sizes "$WORK/def")
  # The largest cache, in Android's daily snapshot (dumpsys diskstats)
  # before the run and in the sim's own count.
  BIG=$(sed -n 3p <<<"$WANT_SIZES" | cut -d' ' -f1)
  BIG_CACHED=$(cached_size def "$BIG" cache)
  BIG_LIVE=$(live_data def "$BIG")
  BIG_CACHED_DATA=$(cached_size def "$BIG" data)
  expect def "no count of app sizes since the phone started" "$(last_count def)" ""
  run_recipe def play-store-stuck --yes
  FOUND=$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "storage") | .found_message // ""' \
    "$WORK/def.json")
  FIXED=$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "storage") | .fix_message // ""' \
    "$WORK/def.json")
  expect def "storage: /data's size and free space are the sim's" \
    "$(grep -o 'only [0-9.]* [KMGT]*B free on /data (of [0-9.]* [KMGT]*B)' <<<"$FOUND" | head -1)" \
    "only $(sed -n 1p <<<"$WANT_SIZES") free on /data (of $(sed -n 2p <<<"$WANT_SIZES"))"
  expect def "storage: the largest caches are the sim's" \
    "$(grep -o 'largest caches: [^;"]*' <<<"$FOUND" | head -1)" \
    "largest caches: $(sed -n 3p <<<"$WANT_SIZES") ($UNKNOWN_AGE)"
  # pm trim-caches 4096M frees caches until 4 GiB are free (installd
  # freeCache stops there): the report says what the phone then has.
  expect def "storage: free space after trimming" \
    "$(report_text def | grep -o 'pm trim-caches 4096M: now [0-9.]* [KMGT]*B free' | head -1)" \
    "pm trim-caches 4096M: now 4.0 GB free"
  repaired def storage fixed clock fixed play-store-cache fixed connectivity nothing-found \
    download-manager nothing-found play-store-data nothing-found downloads-proceed nothing-found
  # The count was of unknown age: after trimming, Android counted again and
  # the report's sizes are that count's, i.e. the sim's sizes after the trim,
  # not the old snapshot's.
  check "def: trimming emptied $BIG's cache (the sim's own count fell)" test "$(live_data def "$BIG")" -lt "$BIG_LIVE"
  case "$FIXED" in
    *"; Android counted app sizes again (its count was of unknown age); the largest app data: "*"(Android's storage count from less than a minute ago)")
      ok "def: the storage fix had Android count again and says so" ;;
    *) bad "def: the storage fix had Android count again and says so (got '$FIXED')" ;;
  esac
  BIG_NOW=$(human "$(live_data def "$BIG")")
  case "$FIXED" in
    *"the largest app data: "*"$BIG $BIG_NOW"*) ok "def: $BIG's data in the report is the recount's ($BIG_NOW)" ;;
    *) bad "def: $BIG's data in the report is the recount's ($BIG_NOW; got '$FIXED')" ;;
  esac
  check "def: ... not the old snapshot's ($(human "$BIG_CACHED_DATA"))" test "$(human "$BIG_CACHED_DATA")" != "$BIG_NOW"
  expect def "dumpsys diskstats now shows $BIG's trimmed cache (the refreshed snapshot)" \
    "$(cached_size def "$BIG" cache)" "$(live_cache def "$BIG")"
  check "def: ... not its old cache" test "$(cached_size def "$BIG" cache)" != "$BIG_CACHED"
  sim_stop "$SIM_PID"
fi

# Android counted a minute ago (forced here before the run; a nearly full
# /data is the only cause): no new count; the sizes are named with their
# age, and after trimming dumpsys diskstats still shows the largest cache's
# old size (the storage step is verified from df /data, not from these).
if start fresh --fault play-store-stuck:storage; then
  BIG=$(sim_sizes "$WORK/fresh" | sed -n 3p | cut -d' ' -f1)
  BIG_CACHED=$(cached_size fresh "$BIG" cache)
  "$DROIDFIX" shell --connect "$SIM_ADB" "$COUNT_JOB" >"$WORK/fresh.job" 2>&1
  expect fresh "the shell forces the count" "$(cat "$WORK/fresh.job")" "Running job [FORCED]"
  for _ in $(seq 1 40); do [ -n "$(last_count fresh)" ] && break; sleep 0.25; done
  COUNTED=$(last_count fresh)
  check "fresh: JobScheduler shows the count's time" test -n "$COUNTED"
  run_recipe fresh play-store-stuck --yes
  expect fresh "storage fixed" "$(outcome_of fresh storage)" fixed
  case "$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "storage") | .found_message' "$WORK/fresh.json")" in
    *"(Android's storage count from less than a minute ago)"*) ok "fresh: the check names the count's age" ;;
    *) bad "fresh: the check names the count's age" ;;
  esac
  if report_text fresh | grep -q "counted app sizes again"; then
    bad "fresh: no new count when Android counted minutes ago"
  else
    ok "fresh: no new count when Android counted minutes ago"
  fi
  expect fresh "dumpsys diskstats still shows $BIG's old cache (the snapshot is stale)" \
    "$(cached_size fresh "$BIG" cache)" "$BIG_CACHED"
  sim_stop "$SIM_PID"
fi

# --dry-run: the problems are found (exit 1), nothing changes.
if start dry --fault play-store-stuck; then
  run_recipe dry play-store-stuck --dry-run
  expect dry "exit code" "$RUN_RC" 1
  untouched dry
  # A check only reads: Android was not asked to count (app-data).
  expect dry "no count was forced" "$(last_count dry)" ""
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
  expect healthy "report lists the steps" "$(outcomes healthy | wc -l)" 11
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
