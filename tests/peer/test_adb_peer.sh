#!/usr/bin/env bash
# Google's adb (Debian's 29.0.6) against droidfix-sim's ADB device side over
# TCP: connect, devices -l, shell with exit codes and separate stderr,
# push/pull of 64 MiB byte for byte, auth accepted / prompted / rejected
# (keys kept across restarts), reboot into the bootloader and back, recovery,
# root/unroot on a phone that is not rooted.
#
# The adb server runs on a port of this test's own (never 5037, never
# 5555-5585) with the harness's private HOME, so ~/.android/adbkey is this
# test's, and the harness kills it at the end. Ends with "N passed, N failed".
source "$(dirname "$0")/../lib/harness.sh"

if ! command -v adb >/dev/null; then
  echo "adb is not installed (Debian package adb): nothing tested"
  finish
fi
if [ ! -x "$SIM" ]; then
  bad "droidfix-sim is built ($SIM)"
  finish
fi

export ADB_VENDOR_KEYS=
ADB_SERVER_PORT=$(free_port)
ADB=(adb -P "$ADB_SERVER_PORT")
"${ADB[@]}" start-server >/dev/null 2>&1

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_refused() { ! port_in_use "$1"; }

# start_sim NAME ARGS...: serves a phone with its state in $WORK/NAME; sets
# SIM_PID, ADB_PORT and FB_PORT.
start_sim() {
  sim_start "$@" --boot-ms 100 || return 1
  ADB_PORT=${SIM_ADB##*:}
  FB_PORT=${SIM_FB##*:}
}

# device_state SERIAL: the state column of `adb devices` ("" if not listed).
device_state() {
  "${ADB[@]}" devices | awk -v s="$1" '$1 == s {print $2}'
}
state_is() { [ "$(device_state "$1")" = "$2" ]; }

wait_state() { wait_until 10 state_is "$1" "$2"; } # wait_state SERIAL STATE
wait_refused() { wait_until 5 port_refused "$1"; }
wait_open() { wait_until 10 port_in_use "$1"; }

# reconnect SERIAL: drops the server's transport and connects again (after a
# reboot the server would retry by itself, but on its own schedule).
reconnect() {
  "${ADB[@]}" disconnect "$1" >/dev/null 2>&1
  "${ADB[@]}" connect "$1" >"$WORK/connect.out" 2>&1
}

# ---- a phone that accepts the computer's key ----
if ! start_sim phone --auth accept; then
  bad "droidfix-sim serve prints its ports"
  finish
fi
SERIAL=127.0.0.1:$ADB_PORT
PHONE_PID=$SIM_PID
PHONE_ADB_PORT=$ADB_PORT
PHONE_FB_PORT=$FB_PORT
A=("${ADB[@]}" -s "$SERIAL")

"${ADB[@]}" connect "$SERIAL" >"$WORK/connect1.out" 2>&1
check "adb connect reaches the phone" grep -q "connected to $SERIAL\|failed to authenticate" "$WORK/connect1.out"
check "the phone is listed as device" wait_state "$SERIAL" device

# auth accept: the host's key is now in the phone's adb_keys.
pubkey=$(cut -d' ' -f1 "$HOME/.android/adbkey.pub" 2>/dev/null)
check "auth accept stores the host key in adb_keys" \
  grep -qF "$pubkey" "$WORK/phone/adb_keys"

"${ADB[@]}" devices -l >"$WORK/devices.out" 2>&1
model=$("${A[@]}" shell getprop ro.product.model 2>/dev/null | tr -d '\r')
check "adb devices -l shows model and device" \
  grep -q "^$SERIAL *device .*model:${model:-NONE} device:vermeer" "$WORK/devices.out"

out=$("${A[@]}" shell echo hi 2>&1)
check "adb shell echo hi prints hi" test "$out" = "hi"

"${A[@]}" shell false >/dev/null 2>&1
rc=$?
check "adb shell false exits 1 (got $rc)" test "$rc" = 1
"${A[@]}" shell 'exit 3' >/dev/null 2>&1
rc=$?
check "adb shell 'exit 3' exits 3 (got $rc)" test "$rc" = 3

"${A[@]}" shell 'echo to-out; ls /sdcard/no/such/file' >"$WORK/so" 2>"$WORK/se"
rc=$?
check "stdout holds only stdout" test "$(cat "$WORK/so")" = "to-out"
check "stderr holds the error" grep -q "^ls: /sdcard/no/such/file: " "$WORK/se"
check "the failing command's exit code comes back (got $rc)" test "$rc" = 1

head -c $((64 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
check "adb push of 64 MiB succeeds" "${A[@]}" push "$WORK/big.bin" /sdcard/Download/big.bin
check "adb pull of 64 MiB succeeds" "${A[@]}" pull /sdcard/Download/big.bin "$WORK/big.back"
check "pulled bytes equal pushed bytes" cmp -s "$WORK/big.bin" "$WORK/big.back"
size=$("${A[@]}" shell stat -c %s /sdcard/Download/big.bin 2>/dev/null | tr -d '\r')
[ -n "$size" ] || size=$("${A[@]}" shell ls -l /sdcard/Download/big.bin 2>/dev/null | awk '{print $5}')
check "the phone reports the pushed size ($size)" test "$size" = $((64 * 1024 * 1024))

head -c 300000 /dev/urandom >"$WORK/bin.small"
"${A[@]}" push "$WORK/bin.small" /sdcard/bin.small >/dev/null 2>&1
"${A[@]}" exec-out cat /sdcard/bin.small >"$WORK/bin.exec" 2>/dev/null
check "adb exec-out is binary safe" cmp -s "$WORK/bin.small" "$WORK/bin.exec"

"${A[@]}" pull /sdcard/no-such-file "$WORK/x" >"$WORK/pull.err" 2>&1
rc=$?
check "pulling a missing file fails with 'No such file'" \
  eval "[ $rc -ne 0 ] && grep -q 'No such file' '$WORK/pull.err'"
"${A[@]}" push "$WORK/bin.small" /system/x >"$WORK/push.err" 2>&1
rc=$?
check "pushing into /system is refused (Permission denied)" \
  eval "[ $rc -ne 0 ] && grep -q 'Permission denied' '$WORK/push.err'"

"${A[@]}" ls /sdcard/Download >"$WORK/ls.out" 2>&1
check "adb ls lists the pushed file" grep -q " big.bin$" "$WORK/ls.out"

out=$("${A[@]}" root 2>&1)
check "adb root on a production phone: 'adbd cannot run as root in production builds'" \
  test "$out" = "adbd cannot run as root in production builds"
out=$("${A[@]}" unroot 2>&1)
check "adb unroot: 'adbd not running as root'" test "$out" = "adbd not running as root"

# Reconnecting with a key the phone already accepted needs no prompt.
reconnect "$SERIAL"
check "reconnect with an accepted key: no authentication failure" \
  eval "grep -q 'connected to' '$WORK/connect.out' && ! grep -q 'failed to authenticate' '$WORK/connect.out'"
check "the phone is a device again at once" wait_state "$SERIAL" device

# Keys survive a restart: the same state now with --auth prompt still
# accepts this computer.
sim_stop "$PHONE_PID"
"${ADB[@]}" disconnect "$SERIAL" >/dev/null 2>&1
if start_sim phone --auth prompt --adb-port "$PHONE_ADB_PORT" --fastboot-port "$PHONE_FB_PORT"; then
  PHONE_PID=$SIM_PID
  "${ADB[@]}" connect "$SERIAL" >/dev/null 2>&1
  check "after a restart the stored key is still accepted" wait_state "$SERIAL" device
else
  bad "the phone restarts on its ports"
fi

# reboot into the bootloader: adb goes away, fastboot answers.
"${A[@]}" reboot bootloader >/dev/null 2>&1
rc=$?
check "adb reboot bootloader returns 0 (got $rc)" test "$rc" = 0
check "the adb port refuses connections in the bootloader" wait_refused "$PHONE_ADB_PORT"
if command -v fastboot >/dev/null; then
  wait_open "$PHONE_FB_PORT"
  out=$(timeout 20 fastboot -s "tcp:127.0.0.1:$PHONE_FB_PORT" getvar product 2>&1)
  check "fastboot getvar product answers in the bootloader" eval "echo \"\$out\" | grep -q '^product: vermeer'"
  timeout 20 fastboot -s "tcp:127.0.0.1:$PHONE_FB_PORT" reboot >/dev/null 2>&1
  check "fastboot reboot brings adb back" wait_open "$PHONE_ADB_PORT"
  reconnect "$SERIAL"
  check "the phone is a device again after the reboot" wait_state "$SERIAL" device
else
  echo "skip - fastboot is not installed: bootloader side not checked"
fi

# recovery: the banner says recovery.
"${A[@]}" reboot recovery >/dev/null 2>&1
wait_refused "$PHONE_ADB_PORT"
wait_open "$PHONE_ADB_PORT"
reconnect "$SERIAL"
check "adb reboot recovery: listed as recovery" wait_state "$SERIAL" recovery
"${A[@]}" reboot >/dev/null 2>&1
wait_refused "$PHONE_ADB_PORT"
wait_open "$PHONE_ADB_PORT"
reconnect "$SERIAL"
check "adb reboot from recovery: a device again" wait_state "$SERIAL" device

# ---- a rooted phone: adb root restarts adbd as root ----
if start_sim rooted --auth accept --rooted; then
  SR=127.0.0.1:$ADB_PORT
  "${ADB[@]}" connect "$SR" >/dev/null 2>&1
  wait_state "$SR" device
  out=$("${ADB[@]}" -s "$SR" root 2>&1)
  check "adb root on a rooted phone: 'restarting adbd as root'" test "$out" = "restarting adbd as root"
  reconnect "$SR"
  wait_state "$SR" device
  check "after adb root the shell runs as root" \
    eval "\"\${ADB[@]}\" -s '$SR' shell id 2>/dev/null | grep -q '^uid=0('"
  out=$("${ADB[@]}" -s "$SR" root 2>&1)
  check "adb root again: 'adbd is already running as root'" test "$out" = "adbd is already running as root"
  out=$("${ADB[@]}" -s "$SR" unroot 2>&1)
  check "adb unroot: 'restarting adbd as non root'" test "$out" = "restarting adbd as non root"
  "${ADB[@]}" disconnect "$SR" >/dev/null 2>&1
else
  bad "droidfix-sim serve --rooted starts"
fi

# ---- a phone whose "Allow USB debugging?" dialog stays open ----
if start_sim prompt --auth prompt; then
  S2=127.0.0.1:$ADB_PORT
  "${ADB[@]}" connect "$S2" >/dev/null 2>&1
  check "auth prompt: listed as unauthorized" wait_state "$S2" unauthorized
  "${ADB[@]}" -s "$S2" shell echo hi >/dev/null 2>"$WORK/unauth.err"
  check "auth prompt: shell is refused as unauthorized" grep -q "unauthorized" "$WORK/unauth.err"
  check "auth prompt: no key stored" test ! -s "$WORK/prompt/adb_keys"
  "${ADB[@]}" disconnect "$S2" >/dev/null 2>&1
else
  bad "droidfix-sim serve --auth prompt starts"
fi

# ---- a phone whose user taps Deny ----
if start_sim reject --auth reject; then
  S3=127.0.0.1:$ADB_PORT
  "${ADB[@]}" connect "$S3" >/dev/null 2>&1
  sleep 1
  check "auth reject: never listed as device" test "$(device_state "$S3")" != device
  "${ADB[@]}" -s "$S3" shell echo hi >/dev/null 2>&1
  rc=$?
  check "auth reject: shell fails" test "$rc" != 0
  check "auth reject: no key stored" test ! -s "$WORK/reject/adb_keys"
  check "auth reject: the phone keeps running" kill -0 "$SIM_PID"
  "${ADB[@]}" disconnect "$S3" >/dev/null 2>&1
else
  bad "droidfix-sim serve --auth reject starts"
fi

finish
