#!/usr/bin/env bash
# system-reflash's flash_all variant erases the user's data; the backup the
# run takes first must undo that. On a ROOTED Redmi K70 (droidfix-sim
# --rooted: su, apps with private data, a Google account), the way a user
# runs it by default (no --no-backup, no backup_to):
#   droidfix run recipes/system-reflash.lua --yes --param firmware=ROM.tgz
#     --param variant=flash_all
# the runner backs the phone up before the step (with root: /sdcard, the
# apps' APKs and private data, the account databases), the recipe flashes
# the ROM and erases userdata; the phone boots with every partition holding
# the ROM, its data gone. Then
#   droidfix run recipes/restore.lua --yes --param archive=THAT_ARCHIVE
# puts it back: user_data_sha256 equals the one before the reflash, the same
# third-party apps, the user's photo, no faults. Also: one backup, not two
# (the recipe does not copy the phone again after the runner did), and the
# report names the restore command with the archive.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/recipe_harness.sh"

export DROIDFIX_BACKUP_DIR="$WORK/backups" # the runner's backups
export DROIDFIX_WORK_DIR="$WORK/runs"      # the runs' work folders
MAKE_ROM="$DF_SOURCE_DIR/tests/fixtures/make-rom.sh"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
phone_sh() { "$DROIDFIX" shell --connect "$SIM_ADB" "$1" 2>/dev/null | tr -d '\r'; }
apps() { phone_sh "pm list packages -3" | sort; }
json_of() { cp "$WORK/phone.json" "$WORK/$1.json"; cp "$WORK/phone.run.err" "$WORK/$1.run.err"; }
show() {
  outcomes "$1" | sed 's/^/    /'
  report_text "$1" | cut -c1-800 | sed 's/^/    /'
  tail -5 "$WORK/$1.run.err" | sed 's/^/    err: /'
}

# ---- the ROM, and what the phone must hold after it (super unsparsed)
mkdir -p "$WORK/roms"
GOOD=$("$MAKE_ROM" "$WORK/roms" good 2) || bad "make-rom.sh good"
source "$DF_SOURCE_DIR/tests/lib/rom_expect.sh"
rom_expect good "$GOOD" || bad "unpacking the ROM"
holds_rom() { rom_held good "$WORK/phone"; }

# ---- the phone: rooted, so its bootloader is unlocked (Magisk needs that).
# The sim has no flag for a phone that comes unlocked, and `fastboot
# flashing unlock` erases the data (as on a real phone), so the test sets
# `unlocked = true` in the stopped sim's state file (tests/sim/phone_state.c
# reads it back on start).
SIM_ARGS=(--rooted --anti-rollback 2 --boot-ms 200)
sim_start phone "${SIM_ARGS[@]}" || { bad "droidfix-sim starts"; finish; }
sim_stop "$SIM_PID"
sed -i 's/\bunlocked = false,/unlocked = true,/' "$WORK/phone/state.lua"
sim_start phone "${SIM_ARGS[@]}" || { bad "droidfix-sim restarts unlocked"; finish; }
expect phone "the sim is a Redmi K70" "$(sim_status "$WORK/phone" model)" xiaomi/redmi-k70
expect phone "its bootloader is unlocked" "$(sim_status "$WORK/phone" unlocked)" true
expect phone "root (su) answers as uid 0" "$(phone_sh "su -c id" | grep -c '^uid=0(root)')" 1
head -c 300000 /dev/urandom >"$WORK/photo.jpg"
check "setup: the user has a photo" \
  "$DROIDFIX" push -q --connect "$SIM_ADB" "$WORK/photo.jpg" /sdcard/DCIM/photo.jpg
photo() { phone_sh "sha256sum /sdcard/DCIM/photo.jpg" | cut -d' ' -f1; }
expect phone "the photo is on the phone" "$(photo)" "$(sha "$WORK/photo.jpg")"
BEFORE=$(sim_status "$WORK/phone" user_data_sha256)
APPS_BEFORE=$(apps)
check "the phone has third-party apps (WhatsApp among them)" grep -qx package:com.whatsapp <<<"$APPS_BEFORE"
check "... with private data" test -n "$(phone_sh "su -c 'ls /data/data/com.whatsapp/databases'")"
check "... and a Google account" bash -c "'$DROIDFIX' shell --connect '$SIM_ADB' 'dumpsys account' | grep -q 'type=com.google'"

# ---- flash_all, as a user runs it: the runner's own backup first
run_recipe phone system-reflash --yes --param "firmware=$GOOD" --param variant=flash_all
json_of wipe
expect wipe "system-reflash flash_all exit code" "$RUN_RC" 0
[ "$RUN_RC" = 0 ] || show wipe
expect wipe "step reflash" "$(outcome_of wipe reflash)" fixed
# step_backed_up's message is "PATH (N files, N bytes)".
ARCHIVE=$(jq -r 'select(.event == "step_backed_up" and .step == "reflash") | .message' "$WORK/wipe.json" |
  sed 's/ ([0-9]* files, [0-9]* bytes)$//' | head -1)
case "$ARCHIVE" in
  "$DROIDFIX_BACKUP_DIR"/*.tar)
    if [ -f "$ARCHIVE" ]; then ok "wipe: the run's backup is in DROIDFIX_BACKUP_DIR ($(basename "$ARCHIVE"))"; else
      bad "wipe: the run's backup exists ('$ARCHIVE')"
    fi ;;
  *) bad "wipe: the run's backup is in DROIDFIX_BACKUP_DIR ('$ARCHIVE')" ;;
esac
expect wipe "the backup was taken before the phone left Android" \
  "$(jq -r 'select(.event == "step_backed_up" or (.for // "") == "reboot") | .event' "$WORK/wipe.json" | head -1)" \
  step_backed_up
expect wipe "one backup of the phone on the computer, not two" \
  "$(find "$DROIDFIX_BACKUP_DIR" "$DROIDFIX_WORK_DIR" -name '*.tar' 2>/dev/null | wc -l)" 1
if [ -f "$ARCHIVE" ]; then
  check "wipe: the backup holds the photo, WhatsApp's private data and the account databases" \
    sh -c "tar -tf '$ARCHIVE' >'$WORK/list' && grep -qx 'files/sdcard/DCIM/photo.jpg' '$WORK/list' &&
      grep -qx 'apps/com.whatsapp/data.tar' '$WORK/list' && grep -qx 'accounts/accounts.tar' '$WORK/list'"
  check "wipe: nothing is listed as not backed up" \
    sh -c "tar -xOf '$ARCHIVE' meta/not-backed-up.txt >'$WORK/nb.txt' && [ ! -s '$WORK/nb.txt' ]"
fi
expect wipe "the report names the restore command with the archive" \
  "$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "reflash") | .fix_message // ""' \
    "$WORK/wipe.json" | grep -cF "restore.lua --param archive=$ARCHIVE")" 1

# After the flash: data erased, Android running, the ROM in place.
WIPED=$(sim_status "$WORK/phone" user_data_sha256)
if [ "$WIPED" != "$BEFORE" ]; then ok "wipe: flash_all erased the user data (digest differs)"; else
  bad "wipe: flash_all erased the user data (digest unchanged)"
fi
expect wipe "the third-party apps are gone" "$(apps | grep -c package:)" 0
expect wipe "the photo is gone" "$(photo)" ""
expect wipe "phone in system mode" "$(sim_status "$WORK/phone" mode)" system
expect wipe "no faults" "$(sim_status "$WORK/phone" faults)" ""
check "wipe: every partition flash_all writes holds the ROM's image (super unsparsed)" holds_rom
# Root (Magisk) was in the boot image flash_all replaced with the ROM's:
# su is gone, and restore.lua says so before writing anything (a dry run
# runs the checks only).
expect wipe "root is gone with the stock boot image" "$(phone_sh "su -c id" | grep -c '^uid=0(root)')" 0
if [ -f "$ARCHIVE" ]; then
  "$DROIDFIX" run "$DF_SOURCE_DIR/recipes/restore.lua" --connect "$SIM_ADB" --dry-run \
    --param "archive=$ARCHIVE" >"$WORK/dry.out" 2>"$WORK/dry.err"
  check "dry run: restore.lua says the apps' data and accounts need root, to root again first" \
    grep -q "the data of 4 apps .* and the accounts, which go back only with root.*root it again first" \
    "$WORK/dry.out" "$WORK/dry.err"
fi

# ---- the person roots the phone again (flashes a Magisk-patched boot
# image; for the sim: serve --rooted), then restore.lua with the run's
# archive: everything back
sim_stop "$SIM_PID"
sim_start phone "${SIM_ARGS[@]}" || { bad "droidfix-sim restarts rooted"; finish; }
expect rs "root answers again" "$(phone_sh "su -c id" | grep -c '^uid=0(root)')" 1
RUN_RC=none
if [ -f "$ARCHIVE" ]; then
  run_recipe phone restore --yes --param "archive=$ARCHIVE"
  json_of rs
  [ "$RUN_RC" = 0 ] || show rs
  RS_MSG=$(jq -r 'select(.event == "finished") | .report.steps[] | select(.id == "restore-files") | .fix_message // ""' \
    "$WORK/rs.json")
  case "$RS_MSG" in
    *"4 apps reinstalled"*"data of 4 apps put back"*"accounts put back; phone restarted"*)
      ok "rs: the restore reinstalled the apps, put their data and the accounts back" ;;
    *) bad "rs: the restore reinstalled the apps, put their data and the accounts back (got '$RS_MSG')" ;;
  esac
fi
expect rs "restore.lua exit code" "$RUN_RC" 0
AFTER=$(sim_status "$WORK/phone" user_data_sha256)
if [ "$AFTER" = "$BEFORE" ]; then
  ok "rs: user_data_sha256 after flash_all and restore.lua equals the one before the reflash"
else
  bad "rs: user_data_sha256 after flash_all and restore.lua equals the one before ($AFTER != $BEFORE)"
fi
expect rs "the same third-party apps as before" "$(apps)" "$APPS_BEFORE"
expect rs "the user's photo is back" "$(photo)" "$(sha "$WORK/photo.jpg")"
expect rs "no faults" "$(sim_status "$WORK/phone" faults)" ""
expect rs "phone in system mode" "$(sim_status "$WORK/phone" mode)" system
check "rs: the partitions still hold the ROM (the restore flashes nothing)" holds_rom

finish
