#!/usr/bin/env bash
# recipes/play-store-stuck.lua end to end on droidfix-sim: each scenario of
# tests/sim/faults/play-store-stuck.lua is repaired by `droidfix run --yes`
# with no fault left and the user's data unchanged; --dry-run changes
# nothing; a healthy phone gives nothing to fix.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"


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
  run_recipe def play-store-stuck --yes
  FOUND=$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "storage") | .found_message // ""' \
    "$WORK/def.json")
  expect def "storage: /data's size and free space are the sim's" \
    "$(grep -o 'only [0-9.]* [KMGT]*B free on /data (of [0-9.]* [KMGT]*B)' <<<"$FOUND" | head -1)" \
    "only $(sed -n 1p <<<"$WANT_SIZES") free on /data (of $(sed -n 2p <<<"$WANT_SIZES"))"
  expect def "storage: the largest caches are the sim's" \
    "$(grep -o 'largest caches: [^;"]*' <<<"$FOUND" | head -1)" \
    "largest caches: $(sed -n 3p <<<"$WANT_SIZES") (by Android's daily storage count, which may be out of date)"
  # pm trim-caches 4096M frees caches until 4 GiB are free (installd
  # freeCache stops there): the report says what the phone then has.
  expect def "storage: free space after trimming" \
    "$(report_text def | grep -o 'pm trim-caches 4096M: now [0-9.]* [KMGT]*B free' | head -1)" \
    "pm trim-caches 4096M: now 4.0 GB free"
  repaired def storage fixed clock fixed play-store-cache fixed connectivity nothing-found \
    download-manager nothing-found play-store-data nothing-found downloads-proceed nothing-found
  # Trimming emptied that cache, yet the snapshot still shows it (a phone's
  # would, until its next idle-and-charging run): the storage step was
  # verified from df /data, not from these sizes.
  check "def: trimming emptied $BIG's cache (the sim's own count fell)" test "$(live_data def "$BIG")" -lt "$BIG_LIVE"
  expect def "dumpsys diskstats still shows $BIG's old cache (the snapshot is stale)" \
    "$(cached_size def "$BIG" cache)" "$BIG_CACHED"
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
