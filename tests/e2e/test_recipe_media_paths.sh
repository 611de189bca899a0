#!/usr/bin/env bash
# recipes/media-process-crash.lua, the paths past the app-level fixes, end to
# end on droidfix-sim:
# - a third-party app causes the crash (fault media-process-crash:
#   third-party-app): safe mode shows it (by the model's buttons on an
#   unrooted phone, by persist.sys.safemode on a rooted one); the recently
#   installed apps are disabled one at a time until the crash stops; the
#   innocent one is turned back on; user data unchanged.
# - a system fault (media-process-crash:system) that crashes in safe mode
#   too: the factory reset, after the runner's verified backup; the person's
#   "Wipe data" in recovery is played by `droidfix-sim press wipe-data`;
#   then recipes/restore.lua puts /sdcard back as it was.
# - sync off and on on the way (the third-party-app runs reach that step):
#   no shell command can, so droidfix asks and watches dumpsys content; the
#   person's hand (set_master_sync) acts only once asked; without the hand
#   the step is not fixed and says so.
# - the same with --no-backup: no reset, the report says to contact the
#   manufacturer's support.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

CULPRIT=com.speedcleaner.master
INNOCENT=com.zhiliaoapp.musically # in phone_default.lua, installed 6 days ago

# sdcard_digest NAME: sha256 of every file (path and content) in the sim's
# shared storage, read from its state folder (not through the phone).
sdcard_digest() {
  (cd "$WORK/$1/fs/storage/emulated/0" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64
}

# phone_sh NAME CMD: a command on the sim's phone through droidfix shell.
phone_sh() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "$2" 2>/dev/null
}

fix_message() {
  jq -r --arg s "$2" 'select(.event == "finished") | .report.steps[] | select(.id == $s) | (.fix_message // "") + " " + (.message // "")' \
    "$WORK/$1.json"
}

# ---- a third-party app, unrooted: safe mode by the buttons ----
if start tp --fault media-process-crash:third-party-app; then
  expect tp "the culprit is installed as a third-party app" "$(phone_sh tp "pm list packages -3" | grep -c "package:$CULPRIT$")" 1
  run_recipe tp media-process-crash --yes
  repaired tp safe-mode fixed factory-reset nothing-found
  expect tp "safe mode asked of the person once (the model's combination)" "$PRESSED" 1
  expect tp "the culprit is disabled" "$(phone_sh tp "pm list packages -d" | grep -c "package:$CULPRIT$")" 1
  expect tp "the innocent app is back on" "$(phone_sh tp "pm list packages -d" | grep -c "package:$INNOCENT$")" 0
  expect tp "both apps are still installed" "$(phone_sh tp "pm list packages -3" | grep -Ec "package:($CULPRIT|$INNOCENT)$")" 2
  expect tp "out of safe mode" "$(phone_sh tp "getprop ro.sys.safemode")" 0
  MSG=$(fix_message tp safe-mode)
  case "$MSG" in
    *"$CULPRIT (installed 12 days ago) disabled"*"not the cause, turned back on: $INNOCENT"*) ok "tp: the report names the culprit and the app it cleared" ;;
    *) bad "tp: the report names the culprit and the app it cleared (got '$MSG')" ;;
  esac
  # Sync off and on: no shell command can (AOSP has none); droidfix asked,
  # the person (set_master_sync) turned it off, droidfix saw it off in
  # dumpsys content and asked for on, the person turned it on.
  expect tp "step sync" "$(outcome_of tp sync)" fixed
  expect tp "sync turned off by hand once, after droidfix asked" "$SYNC_OFFS" 1
  expect tp "sync turned on by hand once, after droidfix saw it off and asked" "$SYNC_ONS" 1
  case "$(fix_message tp sync)" in
    *"sync turned off and on again on the phone (the phone reported both)"*) ok "tp: the report says the phone reported sync off, then on" ;;
    *) bad "tp: the report says the phone reported sync off, then on ($(fix_message tp sync))" ;;
  esac
  expect tp "sync is on at the end (dumpsys content)" "$(phone_sh tp "dumpsys content" | grep '^Auto sync')" "Auto sync: u0=true "
  sim_stop "$SIM_PID"
fi

# ---- the person does not touch sync: droidfix waits, then says so ----
if start nosync --fault media-process-crash:third-party-app; then
  SYNC_HAND=0 run_recipe nosync media-process-crash --yes --param sync_wait_s=3
  expect nosync "step sync not fixed" "$(outcome_of nosync sync)" not-fixed
  expect nosync "nobody flipped sync" "$SYNC_OFFS$SYNC_ONS" 00
  case "$(fix_message nosync sync)" in
    *"sync was not turned off within 3 s"*) ok "nosync: the report says sync was not turned off" ;;
    *) bad "nosync: the report says sync was not turned off ($(fix_message nosync sync))" ;;
  esac
  expect nosync "droidfix asked on the phone's behalf, never through a shell command" \
    "$(grep -c "turn 'Automatically sync data' OFF" "$WORK/nosync.json")" 1
  sim_stop "$SIM_PID"
fi

# ---- the same on a rooted phone: persist.sys.safemode, no buttons ----
if start root --rooted --fault media-process-crash:third-party-app; then
  run_recipe root media-process-crash --yes
  repaired root safe-mode fixed factory-reset nothing-found
  expect root "no button combination asked for" "$PRESSED" 0
  expect root "the culprit is disabled" "$(phone_sh root "pm list packages -d" | grep -c "package:$CULPRIT$")" 1
  expect root "persist.sys.safemode consumed" "$(phone_sh root "getprop persist.sys.safemode")" ""
  expect root "out of safe mode" "$(phone_sh root "getprop ro.sys.safemode")" 0
  sim_stop "$SIM_PID"
fi

# ---- a system fault: the factory reset, backup first, then restore ----
if start sys --fault media-process-crash:system; then
  SD_BEFORE=$(sdcard_digest sys)
  # The person in recovery picks "Wipe data" when asked.
  wipe_hand sys
  run_recipe sys media-process-crash --yes
  kill "$HAND" 2>/dev/null
  wait "$HAND" 2>/dev/null
  expect sys "exit code" "$RUN_RC" 0
  if [ "$RUN_RC" -ne 0 ]; then
    outcomes sys | sed 's/^/    /'
    tail -5 "$WORK/sys.run.err" | sed 's/^/    err: /'
  fi
  # Unrooted: the reset step's confirmation named what the backup could not
  # take (from its meta/not-backed-up.txt), and --yes left it in the events.
  check "sys: the reset's confirmation names the apps whose data is lost (--yes shown)" \
    grep -q "confirmed by --yes: Step 'factory-reset'.*it does NOT hold: the data of .*(no root: ADB cannot read" "$WORK/sys.json"
  expect sys "faults afterwards" "$(sim_status "$WORK/sys" faults)" ""
  expect sys "phone in system mode" "$(sim_status "$WORK/sys" mode)" system
  expect sys "step safe-mode (a system fault: it crashes in safe mode too)" "$(outcome_of sys safe-mode)" fixed
  expect sys "step factory-reset" "$(outcome_of sys factory-reset)" fixed
  case "$(fix_message sys safe-mode)" in
    *"crashes in safe mode too"*) ok "sys: safe mode told a system fault" ;;
    *) bad "sys: safe mode told a system fault ($(fix_message sys safe-mode))" ;;
  esac
  # The backup: taken for the factory-reset step, before the phone went to
  # recovery (the events are in order), and it reads back.
  ARCHIVE=$(jq -r 'select(.event == "step_backed_up" and .step == "factory-reset") | .message' "$WORK/sys.json" |
    sed 's/ ([0-9]* files, [0-9]* bytes)$//' | head -1)
  if [ -n "$ARCHIVE" ] && [ -f "$ARCHIVE" ]; then ok "sys: backup archive written"; else bad "sys: backup archive written ('$ARCHIVE')"; fi
  expect sys "backup before the reset" \
    "$(jq -r 'select(.event == "step_backed_up" or (.event == "waiting" and (.message // "" | test("recovery")))) | .event' "$WORK/sys.json" | head -1)" \
    step_backed_up
  expect sys "the report names the archive to restore" \
    "$(fix_message sys factory-reset | grep -c "restore.lua --param archive=$ARCHIVE")" 1
  AFTER_SHA=$(sim_status "$WORK/sys" user_data_sha256)
  if [ "$AFTER_SHA" != "$BEFORE_SHA" ]; then ok "sys: user data wiped"; else bad "sys: user data wiped"; fi
  expect sys "the third-party apps are gone" "$(phone_sh sys "pm list packages -3" | grep -c package:)" 0
  # Restore with recipes/restore.lua: /sdcard back byte for byte.
  if [ -n "$ARCHIVE" ]; then
    run_recipe sys-restore restore --yes --param "archive=$ARCHIVE"
    expect sys "restore.lua exit code" "$RUN_RC" 0
    expect sys "/sdcard restored byte for byte" "$(sdcard_digest sys)" "$SD_BEFORE"
    # The apps the reset removed come back: reinstalled from the APKs the
    # backup holds, or, where it has none, listed to reinstall by hand
    # (restore.lua decides which; the backup has no app-private data without
    # root, so user_data_sha256 as a whole cannot come back).
    if grep -Eq "apps reinstalled \([^)]*org\.telegram\.messenger|apps to reinstall by hand" <<<"$(report_text sys-restore)" &&
      grep -Eq 'apps reinstalled \([^)]*org\.telegram\.messenger|install them from the Play Store.*org\.telegram\.messenger' "$WORK/sys-restore.json"; then
      ok "sys: restore brings back or lists the removed apps"
    else
      bad "sys: restore brings back or lists the removed apps"
      report_text sys-restore | cut -c1-600
    fi
  fi
  sim_stop "$SIM_PID"
fi

# ---- the same with --no-backup: no reset, the manufacturer's support ----
if start nob --fault media-process-crash:system; then
  run_recipe nob media-process-crash --yes --no-backup
  expect nob "exit code" "$RUN_RC" 1
  expect nob "step factory-reset" "$(outcome_of nob factory-reset)" not-fixed
  expect nob "fault still there" "$(sim_status "$WORK/nob" faults)" media-process-crash
  expect nob "user data unchanged" "$(sim_status "$WORK/nob" user_data_sha256)" "$BEFORE_SHA"
  case "$(fix_message nob factory-reset)" in
    *"no backup was taken"*"manufacturer's support"*) ok "nob: the report says to contact the manufacturer's support" ;;
    *) bad "nob: the report says to contact the manufacturer's support ($(fix_message nob factory-reset))" ;;
  esac
  sim_stop "$SIM_PID"
fi

finish
