#!/usr/bin/env bash
# recipes/backup.lua and recipes/restore.lua end to end on droidfix-sim: a
# backup of /sdcard reads back against its manifest (and GNU tar and
# sha256sum agree); files deleted on the phone change its user_data_sha256
# and a restore brings the digest back byte for byte; a truncated or a
# bit-flipped backup is refused before anything is pushed (the digest stays
# as it was); a backup killed half-way leaves only a .partial, never a file
# that looks complete, and that partial is refused too.
source "$(dirname "$0")/../lib/harness.sh"

digest() { sim_status_field "$WORK/phone" user_data_sha256; }

export DROIDFIX_BACKUP_DIR="$WORK/auto-backups"
sim_start phone || { bad "droidfix-sim starts"; finish; }
before=$(digest)
ARCHIVE="$WORK/phone.tar"

# ---- the backup ----
droidfix_run backup backup --param output="$ARCHIVE"
if [ "$RUN_RC" -eq 0 ]; then ok "backup recipe exits 0"; else bad "backup recipe exits 0 (got $RUN_RC)"; cat "$WORK/backup.err"; fi
check "the archive exists under its final name" test -s "$ARCHIVE"
check "no .partial is left" test ! -e "$ARCHIVE.partial"
check "the manifest lists the phone's files" \
  sh -c "tar -xOf '$ARCHIVE' MANIFEST.sha256 | grep -q '  files/sdcard/Documents/notes.txt\$'"
check "the apps and their versions are recorded" \
  sh -c "tar -xOf '$ARCHIVE' meta/packages.txt | grep -q '^package:com.whatsapp versionCode:'"
check "settings are recorded" sh -c "tar -xOf '$ARCHIVE' meta/settings-global.txt | grep -q '^auto_time='"
check "meta/backup.json names the serial and folders" \
  sh -c "tar -xOf '$ARCHIVE' meta/backup.json | python3 -c 'import json,sys; m=json.load(sys.stdin); assert m[\"folders\"]==[\"/sdcard\"] and m[\"serial\"] and m[\"files\"]>=5'"
mkdir -p "$WORK/x"
check "GNU tar extracts it and sha256sum -c accepts every manifest line" \
  sh -c "tar -xf '$ARCHIVE' -C '$WORK/x' && cd '$WORK/x' && sha256sum -c --quiet MANIFEST.sha256"
droidfix_run backup-again backup --param output="$ARCHIVE"
if [ "$RUN_RC" -ne 0 ] && grep -q "already exists" "$WORK/backup-again.out" "$WORK/backup-again.err"; then
  ok "an existing backup is never written over"
else
  bad "an existing backup is never written over (exit $RUN_RC)"
fi
check "the phone is unchanged by the backup" test "$(digest)" = "$before"

# ---- files deleted on the phone ----
check "deleting files on the phone" \
  "$DROIDFIX" shell --connect "$SIM_ADB" "rm /sdcard/Documents/notes.txt /sdcard/DCIM/Camera/IMG_20240105_101500.jpg"
after_rm=$(digest)
if [ "$after_rm" != "$before" ]; then ok "the digest changes after the deletion"; else bad "the digest changes after the deletion"; fi

# ---- damaged archives are refused before anything is pushed ----
size=$(stat -c %s "$ARCHIVE")
head -c $((size / 2)) "$ARCHIVE" >"$WORK/truncated.tar"
droidfix_run truncated restore --param archive="$WORK/truncated.tar" --yes
if [ "$RUN_RC" -ne 0 ] && grep -qi "damaged\|refusing" "$WORK/truncated.out" "$WORK/truncated.err"; then
  ok "a truncated backup is refused with a message"
else
  bad "a truncated backup is refused with a message (exit $RUN_RC)"
  sed 's/^/    /' "$WORK/truncated.out" | head -20
fi
check "nothing was pushed from the truncated backup" test "$(digest)" = "$after_rm"

# Flip one bit inside the data of boarding-pass.pdf (GNU tar says where).
block=$(tar -tRvf "$ARCHIVE" | awk '/files\/sdcard\/Download\/boarding-pass.pdf/ {sub(":", "", $2); print $2; exit}')
cp "$ARCHIVE" "$WORK/flipped.tar"
python3 - "$WORK/flipped.tar" $(((block + 1) * 512 + 1000)) <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x10]))
PY
droidfix_run flipped restore --param archive="$WORK/flipped.tar" --yes
if [ "$RUN_RC" -ne 0 ] && grep -q "boarding-pass.pdf" "$WORK/flipped.out" "$WORK/flipped.err"; then
  ok "a bit-flipped backup is refused, naming the damaged file"
else
  bad "a bit-flipped backup is refused, naming the damaged file (exit $RUN_RC)"
  sed 's/^/    /' "$WORK/flipped.out" | head -20
fi
check "nothing was pushed from the bit-flipped backup" test "$(digest)" = "$after_rm"

# ---- the restore ----
droidfix_run restore restore --param archive="$ARCHIVE" --yes
if [ "$RUN_RC" -eq 0 ]; then ok "restore recipe exits 0"; else bad "restore recipe exits 0 (got $RUN_RC)"; sed 's/^/    /' "$WORK/restore.out"; fi
after=$(digest)
if [ "$after" = "$before" ]; then ok "the digest is back, byte for byte"; else bad "the digest is back ($after != $before)"; fi
check "restore took a backup of the phone as it was first" sh -c "ls '$DROIDFIX_BACKUP_DIR'/*.tar"
droidfix_run restore-again restore --param archive="$ARCHIVE" --yes
if [ "$RUN_RC" -eq 0 ] && grep -q "nothing-found" "$WORK/restore-again.out"; then
  ok "a second restore finds nothing to do"
else
  bad "a second restore finds nothing to do (exit $RUN_RC)"
fi

# ---- a backup killed half-way ----
head -c $((256 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
check "pushing a 256 MiB file to the phone" "$DROIDFIX" push --connect "$SIM_ADB" "$WORK/big.bin" /sdcard/Movies/big.bin
rm -f "$WORK/big.bin"
KILLED="$WORK/killed.tar"
"$DROIDFIX" run "$DF_SOURCE_DIR/recipes/backup.lua" --connect "$SIM_ADB" --param output="$KILLED" \
  >"$WORK/killed.out" 2>&1 &
pid=$!
# Stopped once the partial holds some data, then killed: no timing is
# asserted, only what is left on disk.
partial_started() { [ "$(stat -c %s "$KILLED.partial" 2>/dev/null || echo 0)" -gt 1048576 ]; }
if wait_until 60 partial_started; then
  kill -STOP "$pid"
  if [ -e "$KILLED" ]; then bad "mid-way, no file looks complete"; else ok "mid-way, no file looks complete"; fi
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  check "after the kill only the .partial is left" test -e "$KILLED.partial" -a ! -e "$KILLED"
  "$DROIDFIX" shell --connect "$SIM_ADB" "rm /sdcard/Documents/notes.txt" >/dev/null 2>&1
  before_partial=$(digest)
  droidfix_run partial restore --param archive="$KILLED.partial" --yes
  if [ "$RUN_RC" -ne 0 ]; then ok "the .partial is refused by restore"; else bad "the .partial is refused by restore"; fi
  check "nothing was pushed from the .partial" test "$(digest)" = "$before_partial"
else
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  bad "the killed backup's .partial grew (never saw it)"
  cat "$WORK/killed.out" | head -20
fi

finish
