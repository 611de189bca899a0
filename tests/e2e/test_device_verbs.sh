#!/usr/bin/env bash
# droidfix's device verbs against droidfix-sim (issue 4): finding the phone,
# shell with exit codes and stdout/stderr apart, push and pull byte for
# byte, following the phone by serial across system, bootloader and
# fastbootd, getvar, and flashing raw, sparse and oversized images checked
# through the sim's own account of its partitions.
source "$(dirname "$0")/../lib/harness.sh"

sim_start phone --boot-ms 200 || { bad "droidfix-sim starts"; finish; }
C=(--connect "$SIM_ADB" --connect "$SIM_FB")
status() { "$SIM" status --state-dir "$WORK/phone"; }
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- finding the phone
"$DROIDFIX" devices --json "${C[@]}" >"$WORK/devices.json"
SERIAL=$(status | json_get 'd["serial"]')
check "devices lists the phone once, in system mode, by its serial" \
  test "$(json_get '[(x["serial"], x["mode"], x["codename"]) for x in d["devices"]]' <"$WORK/devices.json")" \
       = "[('$SERIAL', 'system', 'vermeer')]"
check "info names the device file" bash -c "'$DROIDFIX' info ${C[*]} | grep -q 'devices/xiaomi/redmi-k70.lua'"
check "a wrong --device is refused" bash -c "! '$DROIDFIX' shell --device nosuch ${C[*]} true"
check "nothing listening: a clear message and exit 1" bash -c \
  "'$DROIDFIX' shell --connect 127.0.0.1:$(free_port) true 2>&1 | grep -q 'nothing listens there'"

# --- shell
check "shell prints the phone's output" test "$("$DROIDFIX" shell "${C[@]}" echo hi)" = "hi"
"$DROIDFIX" shell "${C[@]}" false
check "shell false exits 1" test $? -eq 1
"$DROIDFIX" shell "${C[@]}" 'exit 3'
check "shell 'exit 3' exits 3" test $? -eq 3
"$DROIDFIX" shell "${C[@]}" 'echo to-out; echo to-err >&2' >"$WORK/o" 2>"$WORK/e"
check "stdout and stderr stay apart" bash -c "grep -qx to-out '$WORK/o' && grep -qx to-err '$WORK/e' && ! grep -q to-err '$WORK/o'"

# --- files
head -c $((256 * 1024 * 1024)) /dev/urandom >"$WORK/big"
check "push of 256 MiB" "$DROIDFIX" push -q "${C[@]}" "$WORK/big" /sdcard/big.bin
check "pull of 256 MiB" "$DROIDFIX" pull -q "${C[@]}" /sdcard/big.bin "$WORK/big.back"
check "the pulled file is the pushed file, byte for byte" cmp "$WORK/big" "$WORK/big.back"
rm -f "$WORK/big.back"
check "pull of a missing file fails" bash -c "! '$DROIDFIX' pull -q ${C[*]} /sdcard/none '$WORK/none'"
check "a failed pull leaves no file, partial or whole" bash -c "! ls '$WORK'/none* 2>/dev/null | grep -q ."

# --- following the phone into the bootloader
check "reboot bootloader --wait" "$DROIDFIX" reboot bootloader --wait --timeout 30 "${C[@]}"
"$DROIDFIX" devices --json "${C[@]}" >"$WORK/devices.json"
check "the same phone answers in the bootloader" \
  test "$(json_get '[(x["serial"], x["mode"]) for x in d["devices"]]' <"$WORK/devices.json")" \
       = "[('$SERIAL', 'bootloader')]"
check "getvar product" test "$("$DROIDFIX" getvar product "${C[@]}")" = "product: vermeer"
check "getvar of an unknown variable fails with the phone's words" \
  bash -c "! '$DROIDFIX' getvar no-such-var ${C[*]} 2>'$WORK/gv.err' && grep -q FAIL '$WORK/gv.err'"

# --- flashing
part_sha() { status | json_get "d['partitions'].get('$1', {}).get('sha256', '')"; }
SLOT=$("$DROIDFIX" getvar current-slot "${C[@]}" | sed 's/^current-slot: //')
if "$DROIDFIX" getvar unlocked "${C[@]}" | grep -q 'unlocked: no'; then
  check "flashing a locked phone is refused" bash -c \
    "head -c 4096 /dev/urandom > '$WORK/x.img'; ! '$DROIDFIX' flash dtbo '$WORK/x.img' ${C[*]}"
  fastboot -s "tcp:$SIM_FB" flashing unlock >/dev/null 2>&1
fi
head -c $((16 * 1024 * 1024)) /dev/urandom >"$WORK/dtbo.img"
check "flash of a raw image" "$DROIDFIX" flash -q dtbo "$WORK/dtbo.img" "${C[@]}"
check "the phone holds the raw image" test "$(part_sha "dtbo_$SLOT")" = "$(sha256sum <"$WORK/dtbo.img" | cut -d' ' -f1)"

(head -c $((8 * 1024 * 1024)) /dev/urandom; head -c $((16 * 1024 * 1024)) /dev/zero;
 head -c $((8 * 1024 * 1024)) /dev/urandom) >"$WORK/vendor.raw"
img2simg "$WORK/vendor.raw" "$WORK/vendor.simg"
simg2img "$WORK/vendor.simg" "$WORK/vendor.expect"
check "flash of a sparse image" "$DROIDFIX" flash -q vendor_boot "$WORK/vendor.simg" "${C[@]}"
check "the phone holds what simg2img makes of it" \
  test "$(part_sha "vendor_boot_$SLOT")" = "$(sha256sum <"$WORK/vendor.expect" | cut -d' ' -f1)"

MAX=$("$DROIDFIX" getvar max-download-size "${C[@]}" | sed 's/^max-download-size: //')
BIG=$(( $(printf '%d' "$MAX") + 8 * 1024 * 1024 ))
head -c "$BIG" /dev/urandom >"$WORK/big.img"
# userdata: the one partition here bigger than a download (wiping it is
# what flashing userdata means)
"$DROIDFIX" flash --json userdata "$WORK/big.img" "${C[@]}" >"$WORK/flash.json" 2>"$WORK/flash.err"
check "an image bigger than max-download-size goes in several pieces" \
  test "$(tail -n 1 "$WORK/flash.json" | json_get 'd["pieces"] > 1')" = "True"
check "the phone holds the whole oversized image" \
  test "$(part_sha userdata)" = "$(sha256sum <"$WORK/big.img" | cut -d' ' -f1)"
"$DROIDFIX" flash nosuchpart "$WORK/dtbo.img" "${C[@]}" 2>"$WORK/nosuch.err"
check "flash of a partition the phone lacks exits 1" test $? -eq 1
check "... and shows the phone's words" grep -q "No such partition" "$WORK/nosuch.err"

# --- fastbootd and back to system, by serial
check "reboot fastboot --wait reaches fastbootd" "$DROIDFIX" reboot fastboot --wait --timeout 30 "${C[@]}"
check "getvar is-userspace in fastbootd" test "$("$DROIDFIX" getvar is-userspace "${C[@]}")" = "is-userspace: yes"
check "reboot system --wait" "$DROIDFIX" reboot system --wait --timeout 30 "${C[@]}"
check "the phone is back in system with the same serial" \
  test "$("$DROIDFIX" shell "${C[@]}" getprop ro.serialno)" = "$SERIAL"

# --- authorization, as the phone decides it
sim_start prompt --auth prompt --boot-ms 100 || bad "a second sim starts"
"$DROIDFIX" shell --connect "$SIM_ADB" true 2>"$WORK/auth.err"
check "an unauthorized phone: exit 1" test $? -eq 1
check "an unauthorized phone: the message says to allow it on the phone" grep -q 'Allow' "$WORK/auth.err"
sim_start reject --auth reject --boot-ms 100 || bad "a third sim starts"
check "a phone that rejects the key is not used" bash -c "! '$DROIDFIX' shell --connect $SIM_ADB true"

finish
