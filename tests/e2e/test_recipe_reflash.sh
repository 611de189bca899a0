#!/usr/bin/env bash
# recipes/system-reflash.lua against droidfix-sim (issue 6): a bootlooping
# Redmi K70 (vermeer) whose adb is silent, put into fastboot (the test
# plays the hand with `droidfix-sim press`; droidfix's --json says when it
# waits), flashed straight from a synthetic fastboot ROM .tgz
# (tests/fixtures/make-rom.sh), and boots: no faults, mode system, every
# partition holding the ROM's image (super unsparsed). A corrupt, a
# truncated, a wrong-hash, a wrong-codename and a rollback package are each
# refused before anything is flashed; flash_all_except_storage keeps the
# user's data; flash_all erases it after a backup over ADB.
#
# The sim's bootloader takes 1 MiB downloads here (a copy of devices/ with
# a smaller max_download_size), so vendor_boot (raw, 1.5 MiB) and super
# (sparse, ~2 MiB) go in several pieces cut from the archive on the fly.
source "$(dirname "$0")/../lib/harness.sh"

RECIPE="$DF_SOURCE_DIR/recipes/system-reflash.lua"
MAKE_ROM="$DF_SOURCE_DIR/tests/fixtures/make-rom.sh"
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
status() { "$SIM" status --state-dir "$WORK/phone"; }
parts() { status | json_get 'json.dumps(d["partitions"], sort_keys=True)'; }
user_data() { status | json_get 'd["user_data_sha256"]'; }

# ---- the ROMs
mkdir -p "$WORK/roms"
for kind in good corrupt manet truncated unknown-line missing-image; do
  "$MAKE_ROM" "$WORK/roms" "$kind" 2 >"$WORK/roms/$kind.path" || bad "make-rom.sh $kind"
done
"$MAKE_ROM" "$WORK/roms" rollback 1 >"$WORK/roms/rollback.path" || bad "make-rom.sh rollback"
mkdir -p "$WORK/roms2"
"$MAKE_ROM" "$WORK/roms2" good 2 >"$WORK/roms/good2.path" || bad "make-rom.sh good (a second one)"
rom() { cat "$WORK/roms/$1.path"; }
GOOD=$(rom good)
GOOD2=$(rom good2) # other random images: what the repair writes is told apart
# What the phone must hold after a flash: the images as they are in the
# ROM, super unsparsed by simg2img.
source "$DF_SOURCE_DIR/tests/lib/rom_expect.sh"
rom_expect good "$GOOD" || bad "unpacking the good ROM"
rom_expect good2 "$GOOD2" || bad "unpacking the second good ROM"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# holds_rom NAME: every partition the ROM writes holds its image (both slots
# of the _ab ones; super unsparsed).
holds_rom() { rom_held "$1" "$WORK/phone"; }
# in_pieces NAME: the run's log says vendor_boot (raw, 1.5 MiB) and super
# (sparse, ~2 MiB) each took more than one 1 MiB download.
in_pieces() {
  grep -Eq 'vendor_boot_a, [0-9]+ bytes in ([2-9]|[1-9][0-9]+) download' "$WORK/$1.json" &&
    grep -Eq 'super, [0-9]+ bytes in ([2-9]|[1-9][0-9]+) download' "$WORK/$1.json"
}

# ---- the phone: unlocked (a Xiaomi bootloader must be, to take a ROM),
# with a photo of its user.
cp -r "$DF_SOURCE_DIR/devices" "$WORK/devices"
sed -i 's/max_download_size = 256 \* 1024 \* 1024,/max_download_size = 1024 * 1024,/' \
  "$WORK/devices/xiaomi/common.lua"
check "the sim's copy of devices/ takes 1 MiB downloads" \
  grep -q 'max_download_size = 1024 \* 1024,' "$WORK/devices/xiaomi/common.lua"
SIM_ARGS=(--devices-dir "$WORK/devices" --anti-rollback 2 --boot-ms 200)
sim_start phone "${SIM_ARGS[@]}" || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
check "setup: reboot into the bootloader" "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}"
check "setup: unlock the bootloader (Google's fastboot)" fastboot -s "tcp:$SIM_FB" flashing unlock
check "setup: back to system" "$DROIDFIX" reboot system --wait --timeout 30 "${C[@]}"
head -c 300000 /dev/urandom >"$WORK/photo.jpg"
push_photo() { "$DROIDFIX" push -q "${C[@]}" "$WORK/photo.jpg" /sdcard/DCIM/photo.jpg; }
check "setup: the user has a photo" push_photo

# run_recipe NAME ARGS...: droidfix run --json, answering a "waiting" event
# for the fastboot combination with a press; output in $WORK/NAME.json and
# .err, exit code in $RC, presses counted in $PRESSED.
run_recipe() {
  local name=$1
  shift
  "$DROIDFIX" run "$RECIPE" --json "${C[@]}" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
  local pid=$! seen=0
  PRESSED=0
  while kill -0 "$pid" 2>/dev/null; do
    local n=0
    grep -q '"instruct"' "$WORK/$name.json" && n=$(python3 - "$WORK/$name.json" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "waiting" and e.get("for") == "instruct" and e.get("combo") == "fastboot":
        n += 1
print(n)
PY
)
    if [ "$n" -gt "$seen" ]; then
      seen=$n
      "$SIM" press --state-dir "$WORK/phone" fastboot && PRESSED=$((PRESSED + 1))
    fi
    sleep 0.2
  done
  wait "$pid"
  RC=$?
}
# refused NAME REGEX: the run could not proceed (exit 2) and its report
# gives REGEX as the reason.
refused() {
  [ "$RC" -eq 2 ] && grep '"event":"finished"' "$WORK/$1.json" | grep -Eqi -- "$2"
}
show() { sed 's/^/    /' "$WORK/$1.err" | tail -n 15; grep -E '"finished"' "$WORK/$1.json" | cut -c1-600 | sed 's/^/    /'; }
expect_refused() { # expect_refused NAME REGEX TEXT
  if refused "$1" "$2"; then ok "$3"; else bad "$3 (exit $RC)"; show "$1"; fi
}

# ---- refusals before anything is written, the phone running
USER_DATA=$(user_data)
PARTS_BEFORE=$(parts)
run_recipe corrupt --yes --no-backup --param "firmware=$(rom corrupt)"
expect_refused corrupt 'damaged' "a corrupt package (gzip CRC flipped) is refused as damaged"
run_recipe truncated --yes --no-backup --param "firmware=$(rom truncated)"
expect_refused truncated 'damaged or incomplete' "a truncated package is refused as damaged or incomplete"
run_recipe hash --yes --no-backup --param "firmware=$GOOD" \
  --param sha256=0000000000000000000000000000000000000000000000000000000000000000
expect_refused hash "sha256 is $(sha "$GOOD"), not 0000" "a package whose sha256 is not the one given is refused"
run_recipe manet --yes --no-backup --param "firmware=$(rom manet)"
expect_refused manet 'for manet, the phone is vermeer' "a package for another codename (manet) is refused"
run_recipe unknown --yes --no-backup --param "firmware=$(rom unknown-line)"
expect_refused unknown 'line [0-9]+: fastboot .* flash boot_ab .*curl' \
  "a script with a line droidfix does not understand is refused, the line shown"
run_recipe missing --yes --no-backup --param "firmware=$(rom missing-image)"
expect_refused missing 'images/dtbo.img \(missing\)' "a package missing an image its script flashes is refused"
run_recipe rollback --yes --no-backup --param "firmware=$(rom rollback)"
expect_refused rollback "anti-rollback version is 2 and this package's is 1" \
  "a rollback package (anti 1 < the phone's 2) is refused in the bootloader"
check "nothing was flashed by the refusals" test "$(parts)" = "$PARTS_BEFORE"
check "nor the user's data touched" test "$(user_data)" = "$USER_DATA"
"$DROIDFIX" reboot system --wait --timeout 30 "${C[@]}" >/dev/null 2>&1

# ---- flash_all over ADB: a backup first, then the data is gone
run_recipe wipe --yes --no-backup --param "firmware=$GOOD" --param variant=flash_all \
  --param "backup_to=$WORK/backup.tar"
if [ "$RC" -eq 0 ]; then ok "flash_all from a running phone succeeds"; else bad "flash_all succeeds (exit $RC)"; show wipe; fi
check "the backup was taken first" test -s "$WORK/backup.tar"
check "... and holds the user's photo" bash -c "tar -tf '$WORK/backup.tar' | grep -q 'DCIM/photo.jpg'"
check "flash_all erased the user's data" test "$(user_data)" != "$USER_DATA"
check "the phone is back in system" test "$(status | json_get 'd["mode"]')" = system
check "every partition flash_all writes holds the ROM's image (super unsparsed)" holds_rom good
check "the raw and the sparse image bigger than a download went in pieces" in_pieces wipe

# ---- flash_all_except_storage (the default) over ADB: the data stays
check "setup: the user has a photo again" push_photo
USER_DATA=$(user_data)
run_recipe keep --yes --no-backup --param "firmware=$GOOD2"
if [ "$RC" -eq 0 ]; then ok "flash_all_except_storage from a running phone succeeds"; else bad "flash_all_except_storage succeeds (exit $RC)"; show keep; fi
check "flash_all_except_storage kept the user's data" test "$(user_data)" = "$USER_DATA"
check "every partition it writes holds the second ROM's image" holds_rom good2
check "the phone is back in system" test "$(status | json_get 'd["mode"]')" = system

# ---- the phone breaks: the boot image torn, adb silent
sim_stop "$SIM_PID"
sim_start phone "${SIM_ARGS[@]}" --fault bootloop || { bad "droidfix-sim restarts broken"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
check "setup: the phone bootloops" test "$(status | json_get 'd["mode"]')" = bootloop
USER_DATA=$(user_data)

# ---- the repair: the phone put into fastboot by hand, flashed from the
# .tgz, boots. (Here the person puts the phone in fastboot first; a run
# that starts with no phone answering and guides the press itself is
# tests/e2e/test_recipe_bootloop.sh.)
"$SIM" press --state-dir "$WORK/phone" fastboot
wait_until 20 bash -c "'$SIM' status --state-dir '$WORK/phone' | grep -q '\"mode\": *\"bootloader\"'"
run_recipe good --yes --no-backup --param "firmware=$GOOD" --param "sha256=$(sha "$GOOD")"
check "the reflash of the bootlooping phone (in fastboot) succeeds" test "$RC" -eq 0
[ "$RC" -eq 0 ] || show good
if [ "$RC" -eq 0 ]; then
  check "the phone has no faults" test "$(status | json_get 'd["faults"]')" = "[]"
  check "the phone is in system" test "$(status | json_get 'd["mode"]')" = system
  check "every partition the ROM writes holds its image (super unsparsed)" holds_rom good
  check "the raw and the sparse image bigger than a download went in pieces" in_pieces good
  check "flash_all_except_storage kept the user's data" test "$(user_data)" = "$USER_DATA"
else
  bad "(not checked: the repair did not run) faults, mode, partitions, pieces, user data"
fi

finish
