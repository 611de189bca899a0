#!/usr/bin/env bash
# droidfix-sim keeps both protocol ports bound to itself in every mode: a
# port whose mode is off refuses connections (as a phone that is not there)
# but no other process can bind its number, across system -> bootloader ->
# system. Ends with "N passed, N failed".
source "$(dirname "$0")/../lib/harness.sh"

# can_connect PORT: a TCP connection to 127.0.0.1:PORT is accepted.
can_connect() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
refused() { ! can_connect "$1"; }

# bind_denied PORT: binding 127.0.0.1:PORT from here fails with EADDRINUSE
# (the socket is plain: no SO_REUSEADDR, as most programs bind).
bind_denied() {
  python3 - "$1" <<'PY'
import errno, socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    sys.exit(0 if e.errno == errno.EADDRINUSE else 2)
sys.exit(1)
PY
}

mode_is() { "$SIM" status --state-dir "$WORK/phone" | grep -q "\"mode\": \"$1\""; }

if ! command -v fastboot >/dev/null; then
  bad "Google's fastboot is installed (Debian package fastboot)"
  finish
fi
sim_start phone --boot-ms 50 || { bad "droidfix-sim starts"; finish; }
ADB_PORT=${SIM_ADB##*:}
FB_PORT=${SIM_FB##*:}

# ---- system: adb on, fastboot off ----
check "in system the adb port accepts connections" can_connect "$ADB_PORT"
check "in system the fastboot port refuses connections" refused "$FB_PORT"
check "in system the fastboot port cannot be bound by another process" bind_denied "$FB_PORT"

# ---- bootloader: fastboot on, adb off ----
check "the phone reboots to the bootloader" "$SIM" press --state-dir "$WORK/phone" fastboot
check "status shows the bootloader" wait_until 20 mode_is bootloader
check "in the bootloader the fastboot port accepts connections" wait_until 20 can_connect "$FB_PORT"
check "in the bootloader the adb port refuses connections" refused "$ADB_PORT"
check "in the bootloader the adb port cannot be bound by another process" bind_denied "$ADB_PORT"

# ---- back to system, on the same numbers ----
check "fastboot reboots the phone" fastboot -s "tcp:$SIM_FB" reboot
check "status shows the system again" wait_until 20 mode_is system
check "in system again the adb port accepts connections on the same number" \
  wait_until 20 can_connect "$ADB_PORT"
check "in system again the fastboot port refuses connections" refused "$FB_PORT"
check "in system again the fastboot port cannot be bound by another process" bind_denied "$FB_PORT"
check "the sim is still running" kill -0 "$SIM_PID"

finish
