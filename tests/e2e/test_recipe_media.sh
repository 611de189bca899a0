#!/usr/bin/env bash
# recipes/media-process-crash.lua end to end on droidfix-sim: the media
# process crashes at every boot (corrupt provider databases); `droidfix run
# --yes` clears what the guides say, least harmful first, rebooting after
# each, until the crash is gone, with the user's data unchanged. Android 14
# (MediaProvider module in its own process) and Android 10 (legacy
# MediaProvider inside android.process.media).
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

# parse.master_sync and parse.diskstats' cached flag, on the layouts AOSP
# prints (SyncManager.dumpSyncState: Android 10+ "Auto sync: u0=true ",
# Android 7-9 "auto sync: u0=false "; DiskStatsService without its cache
# file: no per-package lines).
lua_ok() { (cd "$DF_SOURCE_DIR" && lua5.4 -e "package.path = 'recipes/lib/?.lua;' .. package.path
local parse = require('parse'); assert($1)") 2>/dev/null; }
check "parse: master sync on (Android 14 layout)" \
  lua_ok "parse.master_sync('Data connected: true\\nAuto sync: u0=true u10=false \\nStorage low: false\\n') == true"
check "parse: another user's sync is its own" \
  lua_ok "parse.master_sync('Auto sync: u0=true u10=false \\n', 10) == false"
check "parse: master sync off (Android 9 layout)" lua_ok "parse.master_sync('auto sync: u0=false \\n') == false"
check "parse: no Auto sync line is nil, not false" lua_ok "parse.master_sync('SyncManager not available yet\\n') == nil"
check "parse: diskstats without the daily file has no per-app sizes" \
  lua_ok "not parse.diskstats('Latency: 1ms [512B Data Write]\\nData-Free: 100K / 200K total = 50% free\\n').cached"

# Both databases corrupt, Redmi K70 (Android 14).
# Android's per-app sizes (dumpsys diskstats) are its daily snapshot,
# taken here before the run: after the clears they still show the old
# sizes, as a phone's would, and the recipe must verify from live facts.
if start def --fault media-process-crash; then
  expect def "fault installed" "$BEFORE_FAULTS" "media-process-crash"
  DM=com.android.providers.downloads
  DM_CACHED=$(cached_size def "$DM" data)
  check "def: the daily snapshot counts the Download Manager's data" test "${DM_CACHED:-0}" -gt 0
  run_recipe def media-process-crash --yes
  repaired def google-caches fixed download-manager fixed media-storage fixed sync nothing-found \
    app-preferences nothing-found safe-mode nothing-found factory-reset nothing-found
  expect def "the Download Manager's data is gone (the sim's own count)" "$(live_data def "$DM")" 0
  expect def "dumpsys diskstats still shows its old size (the snapshot is stale)" "$(cached_size def "$DM" data)" "$DM_CACHED"
  check "def: the report gives the snapshot's size as such" \
    grep -q "cleared the data of $DM ([0-9.]* [KMGT]*B by Android's daily storage count, which may be out of date)" "$WORK/def.json"
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

# A system fault (it crashes in safe mode too) on a rooted phone, run on a
# terminal (a pty): every question answered yes but the factory reset's
# "Erase ALL data": no reset, the manufacturer's support, data unchanged.
if start decline --rooted --fault media-process-crash:system; then
  # The person's hand on the sync switch, once droidfix asks on the terminal.
  sync_hand_loop decline "$WORK/decline.out" &
  HAND=$!
  python3 - "$DROIDFIX" "$DF_SOURCE_DIR/recipes/media-process-crash.lua" "$SIM_ADB" >"$WORK/decline.out" 2>&1 <<'PY'
import os, pty, sys, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", sys.argv[2], "--connect", sys.argv[3]])
out, seen = b"", 0
while True:
    r, _, _ = select.select([fd], [], [], 120)
    if not r:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    sys.stdout.write(data.decode("utf-8", "replace"))
    sys.stdout.flush()
    if out.rstrip().endswith(b"[y/N]") and len(out) > seen:
        seen = len(out)
        last = out.splitlines()[-1]
        os.write(fd, b"n\n" if b"Erase ALL data" in last else b"y\n")
_, status = os.waitpid(pid, 0)
print("\nEXIT %d" % os.waitstatus_to_exitcode(status))
PY
  kill "$HAND" 2>/dev/null
  wait "$HAND" 2>/dev/null
  check "decline: the sync step passed by the person's hand" \
    grep -q "sync turned off and on again on the phone (the phone reported both)" "$WORK/decline.out"
  expect decline "asked to erase, answered no" "$(grep -c 'Erase ALL data.*\[y/N\]' "$WORK/decline.out")" 1
  check "decline: rooted, the step's confirmation says the backup holds the apps' data and accounts" \
    grep -q "Step 'factory-reset'.*holds /sdcard, the apps with their data, the accounts and the settings.*Go on?" "$WORK/decline.out"
  expect decline "exit code (not fixed)" "$(sed -n 's/^EXIT //p' "$WORK/decline.out")" 1
  check "decline: the report says to contact the manufacturer's support" \
    grep -q "not reset: you chose not to reset: contact the manufacturer's support" "$WORK/decline.out"
  expect decline "fault still there" "$(sim_status "$WORK/decline" faults)" media-process-crash
  expect decline "user data unchanged" "$(sim_status "$WORK/decline" user_data_sha256)" "$BEFORE_SHA"
  expect decline "phone in system mode" "$(sim_status "$WORK/decline" mode)" system
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
