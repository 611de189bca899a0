#!/usr/bin/env bash
# A ROM flash through recipes/system-reflash.lua meets a fault (issue 8):
# the connection dropped in the middle of a sparse super chunk's download,
# the bootloader answering FAIL in the middle of a download, a bootloader
# that stops reading, and an unexpected reboot while flashing. For every
# point: droidfix exits non-zero, its error names the step ('reflash') and
# the partition being written, it reports no success, and the same recipe
# run again finishes the repair: every partition holds the ROM's image
# (super unsparsed), compared with droidfix-sim status.
#
# The ROM is tests/fixtures/make-rom.sh's synthetic Redmi K70 one; the sim
# takes 1 MiB downloads (as in test_recipe_reflash.sh), so super (sparse,
# about 1 MiB of data in 2 MiB) and vendor_boot (raw, 1.5 MiB) go in more
# than one piece. The fastboot bytes of a run: about 400 of getvars and the
# erase, then super's downloads (to about 1.15 MB), vendor_boot's (to about
# 2.7 MB), then the small images. One phone; `droidfix-sim netfault` arms
# each fault. The 116 points of test_disconnects.sh cover the byte
# positions of a single download; this test covers the recipe around them.
source "$(dirname "$0")/../lib/harness.sh"

export DROIDFIX_STALL_TIMEOUT=2
RECIPE="$DF_SOURCE_DIR/recipes/system-reflash.lua"
MAKE_ROM="$DF_SOURCE_DIR/tests/fixtures/make-rom.sh"
status() { "$SIM" status --state-dir "$WORK/phone"; }
mode_is() { status | grep -q "\"mode\": \"$1\""; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# (grep, not python: a python start costs seconds on a loaded machine)
part_sha() { status | grep -o "\"$1\": {[^}]*}" | grep -o '"sha256": "[0-9a-f]*"' | cut -d'"' -f4; }

mkdir -p "$WORK/roms"
"$MAKE_ROM" "$WORK/roms" good 2 >"$WORK/rom.path" || bad "make-rom.sh good"
ROM=$(cat "$WORK/rom.path")
# What the phone must hold after the repair (flash_all_except_storage).
source "$DF_SOURCE_DIR/tests/lib/rom_expect.sh"
rom_expect rom "$ROM" || bad "unpacking the ROM"
# holds_rom: prints the partitions that do not hold the ROM's image.
holds_rom() { rom_held rom "$WORK/phone"; }

cp -r "$DF_SOURCE_DIR/devices" "$WORK/devices"
sed -i 's/max_download_size = 256 \* 1024 \* 1024,/max_download_size = 1024 * 1024,/' \
  "$WORK/devices/xiaomi/common.lua"
check "the sim's copy of devices/ takes 1 MiB downloads" \
  grep -q 'max_download_size = 1024 \* 1024,' "$WORK/devices/xiaomi/common.lua"
sim_start phone --devices-dir "$WORK/devices" --anti-rollback 2 --boot-ms 200 ||
  { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
check "setup: reboot into the bootloader" "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}"
check "setup: unlock the bootloader (Google's fastboot)" fastboot -s "tcp:$SIM_FB" flashing unlock

# run_recipe NAME [ARGS...]: the reflash, --json, cut at 120 s;
# a "waiting" event for the fastboot combination (a phone left
# bootlooping by a fault) is answered with a press. Output in
# $WORK/NAME.json and .err, exit code in $RC.
run_recipe() {
  local name=$1 seen=0 n
  shift
  timeout 120 "$DROIDFIX" run "$RECIPE" --json --yes --no-backup "${C[@]}" \
    --param "firmware=$ROM" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    n=$(grep '"event":"waiting"' "$WORK/$name.json" | grep '"combo":"fastboot"' | grep -c '"instruct"')
    if [ "$n" -gt "$seen" ]; then
      seen=$n
      "$SIM" press --state-dir "$WORK/phone" fastboot
    fi
    sleep 0.2
  done
  wait "$pid"
  RC=$?
}
show() { sed 's/^/    err: /' "$WORK/$1.err" | tail -n 6; grep '"finished"' "$WORK/$1.json" | cut -c1-400 | sed 's/^/    /'; }

run_recipe clean
check "setup: a reflash without faults succeeds" test "$RC" -eq 0
check "setup: ... and every partition holds the ROM's image" holds_rom
"$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}" >/dev/null 2>&1

# point SPEC PART_RE [reboot]: arm SPEC, reflash (failure expected: the
# error names the step and a partition matching PART_RE), rerun (success,
# every partition right). After a reboot mid-flash the phone bootloops
# (boot was erased) and ADB is silent: the rerun is the documented one for
# that, with --model, answering the fastboot combination it shows. The phone starts each point in the bootloader
# holding the ROM from the run before, so dtbo_a (written after super and
# vendor_boot) is first scribbled over with Google's fastboot: a rerun that
# did not flash the whole ROM again shows.
point() {
  local spec=$1 part=$2 problems="" start=$SECONDS took
  head -c 4096 /dev/urandom >"$WORK/junk.img"
  fastboot -s "tcp:$SIM_FB" flash dtbo_a "$WORK/junk.img" >/dev/null 2>&1 ||
    problems+=" cannot scribble dtbo_a"
  "$SIM" netfault --state-dir "$WORK/phone" "$spec" || problems+=" cannot arm"
  run_recipe fault
  took=$((SECONDS - start))
  [ "$RC" -ne 124 ] || problems+=" droidfix hung (cut after 120 s)"
  [ "$RC" -ne 0 ] || problems+=" exit 0"
  local fin
  fin=$(grep '"event":"finished"' "$WORK/fault.json")
  echo "$fin" | grep -q "reflash" || problems+=" the error does not name the step"
  echo "$fin" | grep -Eq "(flashing|erasing) ($part)[^ ]* failed" ||
    problems+=" the error does not name the partition ($part)"
  if echo "$fin" | grep -Eq '"status":"(healthy|repaired)"'; then problems+=" a success was reported"; fi
  if [ "${3:-}" = reboot ]; then
    wait_until 20 bash -c "! '$SIM' status --state-dir '$WORK/phone' | grep -q '\"mode\": \"bootloader\"'" ||
      problems+=" the phone did not reboot"
  fi
  # A stall (ms=N) is over N/1000 - 1 s after droidfix gave up (it fired
  # at least 2 s before). Until then the stalled connection lives in the
  # sim, whose download buffer is the phone's, as on a real one: when it
  # reads again it can finish its download and replace the rerun's.
  local ms=${spec##*ms=}
  [ "$ms" != "$spec" ] && sleep $((ms / 1000 - 1))
  if [ "${3:-}" = reboot ]; then run_recipe rerun --model xiaomi/redmi-k70; else run_recipe rerun; fi
  [ "$RC" -eq 0 ] || problems+=" the rerun failed ($RC)"
  local wrong
  wrong=$(holds_rom) || problems+=" after the rerun these hold the wrong image:$wrong"
  if [ -z "$problems" ]; then
    ok "reflash, $spec: failed naming the step and partition (${took}s); the rerun repaired the phone"
  else
    bad "reflash, $spec:$problems"
    show fault
    show rerun
  fi
  "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}" >/dev/null 2>&1 ||
    bad "back to the bootloader after $spec"
}

point "drop:700000:fastboot:in" "super"
point "fail:1100000:fastboot" "super"
point "stall:2000000:fastboot:in:ms=4000" "vendor_boot"
point "reboot:1600000:fastboot" "vendor_boot" reboot

finish
