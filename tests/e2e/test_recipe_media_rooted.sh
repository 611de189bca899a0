#!/usr/bin/env bash
# Issue #6's rule for a user-data recipe, through recipes/media-process-crash
# on a ROOTED Redmi K70 (droidfix-sim --rooted): its backup restores the
# phone's user_data_sha256.
# - fault media-process-crash:system: no app-level fix reaches it and it
#   crashes in safe mode too, so the run reaches its last step, the factory
#   reset; the runner backs the phone up first (with root: /sdcard, the
#   apps' APKs and private data, the account databases), the reset's
#   confirmation says the backup holds everything (--yes prints it), and
#   the person's "Wipe data" in recovery is `droidfix-sim press wipe-data`.
# - after the run: the fault is gone and the phone's user data differs (the
#   reset erased it); recipes/restore.lua with the archive the run took puts
#   it back: no faults, and user_data_sha256 equals the one before the run.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

# The runner's backups (the one before the reset, and the restore's own
# backup of the phone as it is then) go here, not into the test's home.
export DROIDFIX_BACKUP_DIR="$WORK/backups"

phone_sh() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "$1" 2>/dev/null
}

if start rr --model xiaomi/redmi-k70 --rooted --fault media-process-crash:system; then
  expect rr "the sim is a Redmi K70" "$(sim_status "$WORK/rr" model)" xiaomi/redmi-k70
  expect rr "root (su) answers as uid 0" "$(phone_sh "su -c id" | grep -c '^uid=0(root)')" 1
  expect rr "the fault is on" "$(sim_status "$WORK/rr" faults)" media-process-crash
  APPS_BEFORE=$(phone_sh "pm list packages -3" | tr -d '\r' | sort)

  # The person in recovery picks "Wipe data" when asked.
  wipe_hand rr
  run_recipe rr media-process-crash --yes
  kill "$HAND" 2>/dev/null
  wait "$HAND" 2>/dev/null
  expect rr "media-process-crash exit code" "$RUN_RC" 0
  if [ "$RUN_RC" -ne 0 ]; then
    outcomes rr | sed 's/^/    /'
    tail -5 "$WORK/rr.run.err" | sed 's/^/    err: /'
  fi
  expect rr "step safe-mode (it crashes in safe mode too)" "$(outcome_of rr safe-mode)" fixed
  expect rr "step factory-reset" "$(outcome_of rr factory-reset)" fixed
  expect rr "rooted: safe mode without a button combination" "$PRESSED" 0

  # The archive the run took before the reset (step_backed_up's message is
  # "PATH (N files, N bytes)"), in DROIDFIX_BACKUP_DIR.
  ARCHIVE=$(jq -r 'select(.event == "step_backed_up" and .step == "factory-reset") | .message' "$WORK/rr.json" |
    sed 's/ ([0-9]* files, [0-9]* bytes)$//' | head -1)
  case "$ARCHIVE" in
    "$DROIDFIX_BACKUP_DIR"/*.tar) [ -f "$ARCHIVE" ] && ok "rr: the run's backup is in DROIDFIX_BACKUP_DIR ($(basename "$ARCHIVE"))" ||
      bad "rr: the run's backup exists ('$ARCHIVE')" ;;
    *) bad "rr: the run's backup is in DROIDFIX_BACKUP_DIR ('$ARCHIVE')" ;;
  esac
  expect rr "the backup was taken before the phone went to recovery" \
    "$(jq -r 'select(.event == "step_backed_up" or (.event == "waiting" and (.message // "" | test("recovery")))) | .event' "$WORK/rr.json" | head -1)" \
    step_backed_up
  expect rr "the report names the archive to restore" \
    "$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "factory-reset") | .fix_message // ""' "$WORK/rr.json" |
      grep -cF "restore.lua --param archive=$ARCHIVE")" 1

  # Rooted: the backup holds the apps' data and the accounts; the reset
  # step's confirmation (printed with --yes) says so and names nothing as lost.
  CONFIRM=$(jq -r 'select(.message // "" | test("^confirmed by --yes: Step .factory-reset.")) | .message' "$WORK/rr.json")
  case "$CONFIRM" in
    *"holds /sdcard, the apps with their data, the accounts and the settings"*)
      ok "rr: the reset's confirmation says the backup holds everything (--yes shown)" ;;
    *) bad "rr: the reset's confirmation says the backup holds everything (got '$CONFIRM')" ;;
  esac
  case "$CONFIRM" in
    *"NOT hold"* | *"no root"*) bad "rr: the confirmation names nothing as lost" ;;
    *) ok "rr: the confirmation names nothing as lost" ;;
  esac
  if [ -n "$ARCHIVE" ] && [ -f "$ARCHIVE" ]; then
    check "rr: meta/not-backed-up.txt is empty" \
      sh -c "tar -xOf '$ARCHIVE' meta/not-backed-up.txt >'$WORK/nb.txt' && [ ! -s '$WORK/nb.txt' ]"
    check "rr: the archive holds WhatsApp's private data and the account databases" \
      sh -c "tar -tf '$ARCHIVE' | grep -qx 'apps/com.whatsapp/data.tar' && tar -tf '$ARCHIVE' | grep -qx 'accounts/accounts.tar'"
  else
    bad "rr: meta/not-backed-up.txt is empty (no archive)"
    bad "rr: the archive holds the apps' data (no archive)"
  fi

  # The reset: fault gone, user data erased.
  expect rr "faults after the run" "$(sim_status "$WORK/rr" faults)" ""
  expect rr "phone in system mode" "$(sim_status "$WORK/rr" mode)" system
  WIPED=$(sim_status "$WORK/rr" user_data_sha256)
  if [ "$WIPED" != "$BEFORE_SHA" ]; then ok "rr: the reset erased the user data"; else bad "rr: the reset erased the user data"; fi
  expect rr "the third-party apps are gone" "$(phone_sh "pm list packages -3" | grep -c package:)" 0

  # restore.lua with the run's archive: everything back.
  RUN_RC=none
  if [ -n "$ARCHIVE" ]; then
    run_recipe rs restore --yes --param "archive=$ARCHIVE"
    if [ "$RUN_RC" != 0 ]; then
      outcomes rs | sed 's/^/    /'
      tail -5 "$WORK/rs.run.err" | sed 's/^/    err: /'
    fi
    RS_MSG=$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "restore-files") | .fix_message // ""' "$WORK/rs.json")
    case "$RS_MSG" in
      *"4 apps reinstalled"*"data of 4 apps put back"*"accounts put back; phone restarted"*)
        ok "rs: the restore reinstalled the apps, put their data and the accounts back (rooted path)" ;;
      *) bad "rs: the restore reinstalled the apps, put their data and the accounts back (got '$RS_MSG')" ;;
    esac
  fi
  expect rs "restore.lua exit code" "$RUN_RC" 0
  AFTER=$(sim_status "$WORK/rr" user_data_sha256)
  if [ "$AFTER" = "$BEFORE_SHA" ]; then
    ok "rr: user_data_sha256 after the run's reset and restore.lua equals the one before the run"
  else
    bad "rr: user_data_sha256 after the run's reset and restore.lua equals the one before the run ($AFTER != $BEFORE_SHA)"
  fi
  expect rr "no faults after the restore" "$(sim_status "$WORK/rr" faults)" ""
  expect rr "phone in system mode after the restore" "$(sim_status "$WORK/rr" mode)" system
  expect rr "the same third-party apps as before" "$(phone_sh "pm list packages -3" | tr -d '\r' | sort)" "$APPS_BEFORE"
  sim_stop "$SIM_PID"
fi

finish
