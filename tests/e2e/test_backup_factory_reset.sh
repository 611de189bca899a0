#!/usr/bin/env bash
# A backup survives a factory reset, on droidfix-sim, as far as Android
# allows:
# - rooted phone (su): recipes/backup.lua takes /sdcard, every user app's
#   APK and private data, and the account databases; the phone is wiped
#   ("Wipe data" in recovery: `droidfix-sim press wipe-data`); recipes/
#   restore.lua reinstalls the apps, gives their data back to their new uids,
#   puts the accounts back and restarts the phone: user_data_sha256 is the
#   one from before the backup (the assertion that matters). One app is made
#   of split APKs whose base cannot run without them (isSplitRequired): the
#   restore installs base and splits through one install session, and `pm
#   path` lists all three again.
# - unrooted phone: the backup run says before copying which apps' data and
#   which accounts it cannot hold, its archive lists them in
#   meta/not-backed-up.txt; after the wipe the restore brings /sdcard and the
#   apps back, says again what it cannot, and user_data_sha256 differs (the
#   apps' data and the accounts are gone: docs/backup.md says so plainly).
source "$(dirname "$0")/../lib/harness.sh"

expect_rc() {
  if [ "$RUN_RC" -eq 0 ]; then ok "$1"; else
    bad "$1 (exit $RUN_RC)"
    sed 's/^/    /' "$WORK/$2.out" | tail -25
    sed 's/^/    err: /' "$WORK/$2.err" | tail -10
  fi
}

# wipe DIR: reboot to recovery, "Wipe data", back in Android.
wipe() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "reboot recovery" >/dev/null 2>&1
  wait_until 20 sh -c "[ \"\$('$SIM' status --state-dir '$1' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"mode\"])')\" = recovery ]" ||
    return 1
  "$SIM" press --state-dir "$1" wipe-data || return 1
  wait_until 20 "$DROIDFIX" shell --connect "$SIM_ADB" "getprop sys.boot_completed"
}

packages() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "pm list packages -3"
}

# An app of split APKs, installed the way `adb install-multiple` does it
# (the sim's APK stand-ins: text naming package, version and split).
SPLIT_PKG=com.example.splitty
SPLITS="base config.arm64_v8a config.en"
install_split_app() {
  local f id
  for f in $SPLITS; do
    {
      printf 'droidfix-sim apk (a stand-in for an APK file)\npackage=%s\n' "$SPLIT_PKG"
      printf 'versionCode=7\nversionName=1.7\ntargetSdk=34\n'
      if [ "$f" = base ]; then printf 'isSplitRequired=true\n'; else printf 'split=%s\n' "$f"; fi
    } >"$WORK/$f.apk"
    "$DROIDFIX" push --connect "$SIM_ADB" "$WORK/$f.apk" "/data/local/tmp/$f.apk" >/dev/null || return 1
  done
  id=$("$DROIDFIX" shell --connect "$SIM_ADB" "pm install-create -r" |
    sed -n 's/^Success: created install session \[\([0-9]*\)\]$/\1/p')
  [ -n "$id" ] || return 1
  for f in $SPLITS; do
    "$DROIDFIX" shell --connect "$SIM_ADB" "pm install-write $id $f.apk /data/local/tmp/$f.apk" |
      grep -q '^Success: streamed' || return 1
  done
  "$DROIDFIX" shell --connect "$SIM_ADB" "pm install-commit $id" | grep -qx Success || return 1
  "$DROIDFIX" shell --connect "$SIM_ADB" "rm /data/local/tmp/base.apk /data/local/tmp/config.arm64_v8a.apk /data/local/tmp/config.en.apk"
}
# The file names `pm path` gives for the split app, on one line.
split_paths() {
  "$DROIDFIX" shell --connect "$SIM_ADB" "pm path $SPLIT_PKG" | sed 's|.*/||' | tr -d '\r' | tr '\n' ' '
}
SPLIT_PATHS="base.apk split_config.arm64_v8a.apk split_config.en.apk "

export DROIDFIX_BACKUP_DIR="$WORK/auto-backups"

# ---- a rooted phone: everything comes back ----
if sim_start rooted --rooted; then
  check "rooted: an app of split APKs installs through a session" install_split_app
  check "rooted: pm path lists its base and both splits" test "$(split_paths)" = "$SPLIT_PATHS"
  before=$(sim_status_field "$WORK/rooted" user_data_sha256)
  droidfix_run rbackup backup --param output="$WORK/rooted.tar"
  expect_rc "rooted: backup exits 0" rbackup
  check "rooted: the backup says root is available" grep -q "root (su) is available" "$WORK/rbackup.out"
  check "rooted: WhatsApp's APK is in the archive" \
    sh -c "tar -tf '$WORK/rooted.tar' | grep -q '^apps/com.whatsapp/base.apk\$'"
  check "rooted: the split app's three APKs are in the archive" \
    sh -c "[ \"\$(tar -tf '$WORK/rooted.tar' | grep -c '^apps/$SPLIT_PKG/.*\.apk\$')\" = 3 ]"
  check "rooted: WhatsApp's data is in the archive, with its message store" \
    sh -c "tar -xOf '$WORK/rooted.tar' apps/com.whatsapp/data.tar | tar -tf - 2>/dev/null | grep -q '^data/com.whatsapp/databases/msgstore.db\$'"
  check "rooted: the account databases are in the archive" \
    sh -c "tar -xOf '$WORK/rooted.tar' accounts/accounts.tar | tar -tf - | grep -q '^system_ce/0/accounts_ce.db\$'"
  check "rooted: nothing is listed as not backed up" \
    sh -c "[ -z \"\$(tar -xOf '$WORK/rooted.tar' meta/not-backed-up.txt)\" ]"
  check "rooted: the manifest covers the apps' entries (sha256sum -c)" \
    sh -c "mkdir -p '$WORK/rx' && tar -xf '$WORK/rooted.tar' -C '$WORK/rx' && cd '$WORK/rx' && grep -q '  apps/com.whatsapp/data.tar\$' MANIFEST.sha256 && sha256sum -c --quiet MANIFEST.sha256"
  check "rooted: no temporary tar is left on the phone" \
    sh -c "! '$DROIDFIX' shell --connect '$SIM_ADB' 'su -c \"ls /data/local/tmp\"' | grep -q droidfix"
  check "rooted: the phone is unchanged by the backup" test "$(sim_status_field "$WORK/rooted" user_data_sha256)" = "$before"

  check "rooted: factory reset in recovery" wipe "$WORK/rooted"
  wiped=$(sim_status_field "$WORK/rooted" user_data_sha256)
  if [ "$wiped" != "$before" ] && ! packages | grep -q com.whatsapp && ! packages | grep -q "$SPLIT_PKG"; then
    ok "rooted: the reset erased apps and data"
  else
    bad "rooted: the reset erased apps and data"
  fi

  cp "$WORK/rooted.tar" "$WORK/damaged.tar"
  python3 - "$WORK/damaged.tar" <<'PY'
import sys, tarfile
path = sys.argv[1]
with tarfile.open(path) as t:
    m = t.getmember("apps/com.whatsapp/data.tar")
with open(path, "r+b") as f:
    f.seek(m.offset_data + 700)
    b = f.read(1)
    f.seek(m.offset_data + 700)
    f.write(bytes([b[0] ^ 0x01]))
PY
  droidfix_run rdamaged restore --param archive="$WORK/damaged.tar" --yes
  if [ "$RUN_RC" -ne 0 ] && grep -q "apps/com.whatsapp/data.tar" "$WORK/rdamaged.out" "$WORK/rdamaged.err" &&
    [ "$(sim_status_field "$WORK/rooted" user_data_sha256)" = "$wiped" ] && ! packages | grep -q com.whatsapp; then
    ok "rooted: a backup with damaged app data is refused before anything is installed"
  else
    bad "rooted: a backup with damaged app data is refused before anything is installed (exit $RUN_RC)"
    sed 's/^/    /' "$WORK/rdamaged.out" | tail -15
  fi

  droidfix_run rrestore restore --param archive="$WORK/rooted.tar" --yes
  expect_rc "rooted: restore exits 0" rrestore
  check "rooted: the restore reinstalled the apps, the split one too" grep -q "5 apps reinstalled" "$WORK/rrestore.out"
  check "rooted: the restore put the apps' data back" grep -q "data of 5 apps put back" "$WORK/rrestore.out"
  check "rooted: pm path lists the split app's base and both splits again" test "$(split_paths)" = "$SPLIT_PATHS"
  check "rooted: the restore put the accounts back and restarted the phone" \
    grep -q "accounts put back; phone restarted" "$WORK/rrestore.out"
  after=$(sim_status_field "$WORK/rooted" user_data_sha256)
  if [ "$after" = "$before" ]; then
    ok "rooted: user_data_sha256 after backup, reset and restore equals the one before"
  else
    bad "rooted: user_data_sha256 after backup, reset and restore equals the one before ($after != $before)"
  fi
  check "rooted: no faults" test "$(sim_status_field "$WORK/rooted" faults)" = "[]"
  # ls -l names app uids u0_aN (uid 10000 + N).
  owner=$("$DROIDFIX" shell --connect "$SIM_ADB" "su -c 'ls -l /data/data/com.whatsapp/files'" 2>/dev/null |
    awk '/key$/ {print $3}' | sed -n 's/^u0_a\([0-9]*\)$/\1/p')
  [ -n "$owner" ] && owner=$((10000 + owner))
  uid=$("$DROIDFIX" shell --connect "$SIM_ADB" "pm list packages -U com.whatsapp" | sed -n 's/.*uid://p' | tr -d '\r')
  if [ -n "$uid" ] && [ "$owner" = "$uid" ]; then
    ok "rooted: restored data belongs to the app's new uid ($uid)"
  else
    bad "rooted: restored data belongs to the app's new uid (owner '$owner', uid '$uid')"
  fi
  # Android gives cache/ and code_cache/ the app's cache group (20000 + app
  # id; ls names it u0_aN_cache). After the restore's reboot installd would
  # also put a wrong group right; test_sim_pm_install and test_backup_sim
  # show the restore itself does it.
  want_group=""
  [ -n "$uid" ] && want_group="u0_a$((uid - 10000))_cache"
  group=$("$DROIDFIX" shell --connect "$SIM_ADB" "su -c 'ls -l /data/data/com.whatsapp'" 2>/dev/null |
    awk '$NF == "cache" {print $4}')
  if [ -n "$want_group" ] && [ "$group" = "$want_group" ]; then
    ok "rooted: WhatsApp's cache folder has the app's cache group ($group)"
  else
    bad "rooted: WhatsApp's cache folder has the app's cache group ('$group', want '$want_group')"
  fi
  check "rooted: the staging folder is gone" \
    sh -c "! '$DROIDFIX' shell --connect '$SIM_ADB' 'ls /data/local/tmp' | grep -q droidfix"
  sim_stop "$SIM_PID"
else
  bad "rooted: droidfix-sim starts"
fi

# ---- an unrooted phone: /sdcard and apps come back, data and accounts cannot ----
if sim_start plain; then
  before=$(sim_status_field "$WORK/plain" user_data_sha256)
  notes_before=$("$DROIDFIX" shell --connect "$SIM_ADB" "sha256sum /sdcard/Documents/notes.txt" | cut -d' ' -f1)
  droidfix_run pbackup backup --param output="$WORK/plain.tar"
  expect_rc "unrooted: backup exits 0" pbackup
  # The check's message comes before the copy in the run's output.
  said=$(grep -n "this backup cannot hold" "$WORK/pbackup.out" | head -1 | cut -d: -f1)
  copied=$(grep -n "wrote $WORK/plain.tar" "$WORK/pbackup.out" | head -1 | cut -d: -f1)
  if [ -n "$said" ] && [ -n "$copied" ] && [ "$said" -lt "$copied" ] &&
    sed -n "${said}p" "$WORK/pbackup.out" | grep -q "com.whatsapp" &&
    sed -n "${said}p" "$WORK/pbackup.out" | grep -q "alex.rivera.sim@gmail.com (com.google).*sign in again"; then
    ok "unrooted: before copying, the run names the apps' data and the accounts a reset would lose"
  else
    bad "unrooted: before copying, the run names the apps' data and the accounts a reset would lose"
    sed 's/^/    /' "$WORK/pbackup.out" | head -20
  fi
  check "unrooted: meta/not-backed-up.txt lists every app's data and the accounts" \
    sh -c "tar -xOf '$WORK/plain.tar' meta/not-backed-up.txt >'$WORK/nb.txt' && grep -qx 'app-data com.whatsapp' '$WORK/nb.txt' && grep -qx 'app-data org.telegram.messenger' '$WORK/nb.txt' && grep -qx 'account com.google alex.rivera.sim@gmail.com' '$WORK/nb.txt'"
  check "unrooted: the APKs are in the archive (no root needed)" \
    sh -c "tar -tf '$WORK/plain.tar' | grep -q '^apps/org.telegram.messenger/base.apk\$'"
  check "unrooted: no app data in the archive" sh -c "! tar -tf '$WORK/plain.tar' | grep -q 'data.tar\$'"

  check "unrooted: factory reset in recovery" wipe "$WORK/plain"
  droidfix_run prestore restore --param archive="$WORK/plain.tar" --yes
  expect_rc "unrooted: restore exits 0" prestore
  check "unrooted: the restore said what the backup does not hold" \
    grep -q "this backup does not hold the private data of .*com.whatsapp.* (sign in again)" "$WORK/prestore.out"
  check "unrooted: the apps are back" sh -c "'$DROIDFIX' shell --connect '$SIM_ADB' 'pm list packages -3' | grep -q '^package:com.whatsapp'"
  notes_after=$("$DROIDFIX" shell --connect "$SIM_ADB" "sha256sum /sdcard/Documents/notes.txt" | cut -d' ' -f1)
  if [ -n "$notes_before" ] && [ "$notes_after" = "$notes_before" ]; then ok "unrooted: /sdcard is back"; else bad "unrooted: /sdcard is back"; fi
  after=$(sim_status_field "$WORK/plain" user_data_sha256)
  if [ "$after" != "$before" ]; then
    ok "unrooted: user_data_sha256 differs (apps' data and accounts are lost, as said)"
  else
    bad "unrooted: user_data_sha256 differs (it cannot be equal without the apps' data)"
  fi
else
  bad "unrooted: droidfix-sim starts"
fi

finish
