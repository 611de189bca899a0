#!/usr/bin/env bash
# Faults in the middle of an operation (issue 8): droidfix-sim drops the
# connection at chosen bytes (and at seeded random ones) of a push, a pull,
# a backup (recipes/backup.lua) and a flash (droidfix flash: getvars,
# download, flash:), stalls, answers FAIL mid-download and mid-flash, and
# reboots unexpectedly. For every point: droidfix exits non-zero, its error
# names the operation, it prints no success, no file that looks complete is
# left (the destination holds what it held before: pushes and flashes
# alternate two contents, pulls land in a file that held the other one), and
# the same command run again against the same phone (the fault fires once)
# succeeds with the right bytes (sha256 on both sides).
#
# One phone for everything: `droidfix-sim netfault` arms the next fault on
# the running sim. DROIDFIX_STALL_TIMEOUT=2 makes a stall fail in 2 s.
source "$(dirname "$0")/../lib/harness.sh"

export DROIDFIX_STALL_TIMEOUT=2
export DROIDFIX_BACKUP_DIR="$WORK/auto-backups"
sim_start phone --boot-ms 100 || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
SDCARD="$WORK/phone/fs/storage/emulated/0" # the phone's /sdcard on the host
POINTS=0

sha() { sha256sum <"$1" | cut -d' ' -f1; }
arm() { "$SIM" netfault --state-dir "$WORK/phone" "$1"; }
mode_is() { "$SIM" status --state-dir "$WORK/phone" | grep -q "\"mode\": \"$1\""; }
# (grep, not python: a python start costs seconds on a loaded machine)
part_sha() {
  "$SIM" status --state-dir "$WORK/phone" | grep -o "\"$1\": {[^}]*}" |
    grep -o '"sha256": "[0-9a-f]*"' | cut -d'"' -f4
}
# After a reboot fault the phone is silent for --boot-ms, then in system.
back_in() { wait_until 20 mode_is "$1"; }

# point_result NAME PROBLEMS: one check per fault point.
LAST=$SECONDS
point_result() {
  POINTS=$((POINTS + 1))
  local took=$((SECONDS - LAST))
  LAST=$SECONDS
  if [ -z "$2" ]; then
    ok "$1 (${took}s)"
  else
    bad "$1:$2"
    sed 's/^/    err: /' "$WORK/fault.err" | head -8
  fi
}

# expect_failure STEP_RE: the faulted run failed, said which operation, and
# claimed no success. Appends to PROBLEMS.
expect_failure() {
  cp "$WORK/op.err" "$WORK/fault.err"
  [ "$RC" -ne 0 ] || PROBLEMS+=" exit 0"
  grep -Eq "$1" "$WORK/op.err" || PROBLEMS+=" no '$1' in the error"
  if grep -Eq ': done,|^droidfix: flashed|"ok": ?true|status: healthy' "$WORK/op.out" "$WORK/op.err"; then
    PROBLEMS+=" a success was reported"
  fi
}

op() { "$@" >"$WORK/op.out" 2>"$WORK/op.err"; RC=$?; }

head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/A.bin"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/B.bin"
SHA_A=$(sha "$WORK/A.bin")
SHA_B=$(sha "$WORK/B.bin")
other() { [ "$1" = A ] && echo B || echo A; }
sha_of() { [ "$1" = A ] && echo "$SHA_A" || echo "$SHA_B"; }

# ---- push: the phone's file keeps its old bytes until a push completes.
# An adb push of 3 MiB is about 3146480 bytes from the phone's side; its DONE
# ends some 50 bytes before the end (OKAY and CLSE follow).
check "setup: push A" "$DROIDFIX" push -q "${C[@]}" "$WORK/A.bin" /sdcard/dc.bin
CUR=A
push_point() { # push_point SPEC [reboot]
  local next prev=$CUR
  next=$(other "$CUR")
  PROBLEMS=""
  arm "$1" || PROBLEMS+=" cannot arm"
  op "$DROIDFIX" push "${C[@]}" "$WORK/$next.bin" /sdcard/dc.bin
  expect_failure 'push failed'
  [ "${2:-}" = reboot ] && { back_in system || PROBLEMS+=" the phone did not come back"; }
  [ "$(sha "$SDCARD/dc.bin")" = "$(sha_of "$prev")" ] || PROBLEMS+=" the phone's file changed"
  op "$DROIDFIX" push "${C[@]}" "$WORK/$next.bin" /sdcard/dc.bin
  [ "$RC" -eq 0 ] || PROBLEMS+=" the rerun failed ($RC)"
  if [ "$(sha "$SDCARD/dc.bin")" = "$(sha_of "$next")" ]; then CUR=$next; else PROBLEMS+=" wrong bytes after the rerun"; fi
  point_result "push, $1" "$PROBLEMS"
}
for n in 0 1 12 23 24 29 30 54 60 100 141 1000 4096 65536 65600 262144 1048575 1048576 \
         1048600 1048700 1572864 2097152 2097200 2621440 3145728 3146300 3146400 3146420; do
  push_point "drop:$n:adb:in"
done
for seed in 1 2 3; do push_point "drop:random=$seed:adb:in:within=3146400"; done
push_point "drop:50:adb:out"
push_point "stall:2000000:adb:in:ms=4000"
push_point "reboot:1500000:adb:in" reboot

echo "# push points done at ${SECONDS}s"

# ---- pull: LOCAL keeps its old bytes (the data lands in LOCAL.partial,
# removed on failure) until a pull completes.
cp "$WORK/A.bin" "$SDCARD/pa.bin"
cp "$WORK/B.bin" "$SDCARD/pb.bin"
cp "$WORK/A.bin" "$WORK/pulled.bin"
CUR=A
pull_point() { # pull_point SPEC [reboot]
  local next prev=$CUR src
  next=$(other "$CUR")
  src=/sdcard/p$(echo "$next" | tr AB ab).bin
  PROBLEMS=""
  arm "$1" || PROBLEMS+=" cannot arm"
  op "$DROIDFIX" pull "${C[@]}" "$src" "$WORK/pulled.bin"
  expect_failure 'pull failed'
  [ "${2:-}" = reboot ] && { back_in system || PROBLEMS+=" the phone did not come back"; }
  [ "$(sha "$WORK/pulled.bin")" = "$(sha_of "$prev")" ] || PROBLEMS+=" the local file changed"
  [ ! -e "$WORK/pulled.bin.partial" ] || PROBLEMS+=" a .partial was left"
  op "$DROIDFIX" pull "${C[@]}" "$src" "$WORK/pulled.bin"
  [ "$RC" -eq 0 ] || PROBLEMS+=" the rerun failed ($RC)"
  if [ "$(sha "$WORK/pulled.bin")" = "$(sha_of "$next")" ]; then CUR=$next; else PROBLEMS+=" wrong bytes after the rerun"; fi
  point_result "pull, $1" "$PROBLEMS"
}
for n in 0 1 24 30 48 60 100 160 200 300 1000 4096 65536 262144 1048575 1048576 1048700 \
         1500000 2097152 2097300 2621440 3145728 3146000 3146300 3146400; do
  pull_point "drop:$n:adb:out"
done
for n in 10 100 200; do pull_point "drop:$n:adb:in"; done
for seed in 4 5; do pull_point "drop:random=$seed:adb:within=3146600"; done
pull_point "stall:2000000:adb:out:ms=4000"
pull_point "reboot:1000000:adb" reboot

echo "# pull points done at ${SECONDS}s"

# ---- backup: only OUTPUT.partial ever exists until the archive is whole
# and verified; a rerun writes it. Two small folders (about 2.4 MB).
BK="$WORK/bk.tar"
backup() {
  op "$DROIDFIX" run "$DF_SOURCE_DIR/recipes/backup.lua" "${C[@]}" --param output="$BK" \
    --param folders=/sdcard/Documents,/sdcard/DCIM
}
files_of() { tar -xOf "$1" MANIFEST.sha256 | grep '  files/' | sort; }
backup
check "setup: a backup without faults" test "$RC" -eq 0 -a -s "$BK"
files_of "$BK" >"$WORK/bk.files"
rm -f "$BK"
backup_point() { # backup_point SPEC [reboot]
  PROBLEMS=""
  arm "$1" || PROBLEMS+=" cannot arm"
  backup
  expect_failure 'take-backup|backup'
  [ "${2:-}" = reboot ] && { back_in system || PROBLEMS+=" the phone did not come back"; }
  [ ! -e "$BK" ] || PROBLEMS+=" $BK exists after the failure"
  backup
  [ "$RC" -eq 0 ] || PROBLEMS+=" the rerun failed ($RC)"
  if [ -s "$BK" ] && files_of "$BK" | cmp -s - "$WORK/bk.files"; then :; else PROBLEMS+=" the rerun's archive differs"; fi
  rm -f "$BK" "$BK.partial"
  point_result "backup, $1" "$PROBLEMS"
}
for n in 0 1 30 100 500 1000 1500 2000 2300 4096 65536 500000 1048576 1500000 2000000 2390000; do
  backup_point "drop:$n:adb"
done
backup_point "drop:random=6:adb:within=2390000"
backup_point "stall:1200000:adb:ms=4000"
backup_point "reboot:700000:adb" reboot

echo "# backup points done at ${SECONDS}s"

# ---- flash: the partition keeps its old image until a flash completes.
# droidfix flash of 2 MiB is about 2097360 bytes into the phone: getvars,
# download:, the data, then flash:dtbo_a in the last 20 bytes.
check "setup: reboot into the bootloader" "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}"
check "setup: unlock the bootloader (Google's fastboot)" fastboot -s "tcp:$SIM_FB" flashing unlock
head -c $((2 * 1024 * 1024)) "$WORK/A.bin" >"$WORK/IA.img"
head -c $((2 * 1024 * 1024)) "$WORK/B.bin" >"$WORK/IB.img"
check "setup: flash A" "$DROIDFIX" flash -q dtbo "$WORK/IA.img" "${C[@]}"
CUR=A
flash_point() { # flash_point SPEC STEP_RE [reboot]
  local next prev=$CUR
  next=$(other "$CUR")
  PROBLEMS=""
  arm "$1" || PROBLEMS+=" cannot arm"
  op "$DROIDFIX" flash dtbo "$WORK/I$next.img" "${C[@]}"
  expect_failure "$2"
  if [ "${3:-}" = reboot ]; then
    back_in system || PROBLEMS+=" the phone did not come back"
    "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}" >/dev/null 2>&1 || PROBLEMS+=" no way back to the bootloader"
  fi
  [ "$(part_sha dtbo_a)" = "$(sha "$WORK/I$prev.img")" ] || PROBLEMS+=" the partition changed"
  op "$DROIDFIX" flash dtbo "$WORK/I$next.img" "${C[@]}"
  [ "$RC" -eq 0 ] || PROBLEMS+=" the rerun failed ($RC)"
  if [ "$(part_sha dtbo_a)" = "$(sha "$WORK/I$next.img")" ]; then CUR=$next; else PROBLEMS+=" wrong image after the rerun"; fi
  point_result "flash, $1" "$PROBLEMS"
}
# A fault while droidfix identifies the phone (getvar serialno, product,
# is-userspace: the first 60-odd bytes) fails the session's search instead.
STOPPED='flashing stopped at|refused at|no phone answered'
for n in 0 1 8 20 40 60 80 100 120 140 150 4096 65536 1048576 1048600 1500000 2097152 \
         2097160 2097200 2097250 2097300; do
  flash_point "drop:$n:fastboot:in" "$STOPPED"
done
for n in 10 30 60 100; do flash_point "drop:$n:fastboot:out" "$STOPPED"; done
flash_point "drop:random=8:fastboot:in:within=2097300" "$STOPPED"
flash_point "stall:1000000:fastboot:in:ms=4000" "$STOPPED"
# The stalled connection droidfix gave up on resumes when the 4 s stall
# ends and finishes its download into the phone's one download buffer (as
# AOSP's fastboot keeps one per device). Should that land between a later
# rerun's download and its flash:, the rerun would flash the old image:
# wait it out. (An armed fault no longer fires on it: arms apply only to
# connections started after them, tests/sim/netfault.h.)
sleep 4
for n in 4096 1048576 2000000; do flash_point "fail:$n" "refused at download"; done
flash_point "reboot:1500000:fastboot" "$STOPPED" reboot

echo "# $POINTS fault points in ${SECONDS}s"
[ "$POINTS" -ge 100 ] && ok "at least 100 fault points ($POINTS)" || bad "at least 100 fault points ($POINTS)"
finish
