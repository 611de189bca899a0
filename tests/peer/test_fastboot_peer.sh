#!/usr/bin/env bash
# Google's fastboot (Debian 29.0.6) against droidfix-sim's fastboot port:
# getvar, raw and sparse flashes checked byte for byte, an image bigger than
# max-download-size (resparsed by fastboot into several pieces), flashing
# refused while locked with the bootloader's text, erase, slots, and a reboot
# back to system (the adb port answers again).
source "$(dirname "$0")/../lib/harness.sh"

for tool in fastboot img2simg simg2img python3 sha256sum; do
  if ! command -v "$tool" >/dev/null; then
    bad "$tool is installed"
    finish
  fi
done
if [ ! -x "$SIM" ]; then
  bad "droidfix-sim is built ($SIM)"
  finish
fi

STATE="$WORK/state"
sim_start state --adb-port 0 --fastboot-port 0 --boot-ms 200
FB_ADDR=${SIM_FB:-}
ADB_ADDR=${SIM_ADB:-}
if [ -z "$FB_ADDR" ] || [ -z "$ADB_ADDR" ]; then
  bad "droidfix-sim serve prints its ports"
  finish
fi
ok "serve prints adb $ADB_ADDR and fastboot $FB_ADDR"

fb() { timeout 60 fastboot -s "tcp:$FB_ADDR" "$@"; }

# Status JSON of one partition: "size sha256", or "absent".
part_info() {
  "$SIM" status --state-dir "$STATE" | python3 -c '
import json, sys
name = sys.argv[1]
parts = json.load(sys.stdin).get("partitions", {})
p = parts.get(name) if isinstance(parts, dict) else next((x for x in parts if x.get("name") == name), None)
print("absent" if p is None else "%s %s" % (p.get("size"), p.get("sha256")))' "$1"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# wait_port HOST:PORT: until it accepts connections (or 20 s pass).
port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
wait_port() { wait_until 20 port_open "$1"; }

# ---- into the bootloader ----
"$SIM" press --state-dir "$STATE" fastboot >"$WORK/press.out" 2>&1
check "press fastboot: the fastboot port answers" wait_port "$FB_ADDR"

# ---- getvar ----
fb getvar product >"$WORK/product.out" 2>&1
check "getvar product prints 'product: vermeer' on stderr" grep -q '^product: vermeer' "$WORK/product.out"
fb getvar all >"$WORK/all.out" 2>&1
check "getvar all lists product and max-download-size" \
  bash -c "grep -q '(bootloader) product:vermeer' '$WORK/all.out' && grep -q '(bootloader) max-download-size:' '$WORK/all.out'"
fb getvar no-such-variable >"$WORK/novar.out" 2>&1
check "getvar of an unknown name fails with the bootloader's text" \
  grep -q "GetVar Variable Not found" "$WORK/novar.out"

MDS=$(fb getvar max-download-size 2>&1 | awk '/^max-download-size:/{print $2}')
MDS_BYTES=$(python3 -c "print(int('$MDS', 0))" 2>/dev/null || echo 0)
check "max-download-size is a number ($MDS)" test "$MDS_BYTES" -gt 0

# Flashing needs an unlocked bootloader.
if fb getvar unlocked 2>&1 | grep -q '^unlocked: no'; then
  fb flashing unlock >"$WORK/unlock0.out" 2>&1
  check "flashing unlock of a locked phone" grep -q OKAY "$WORK/unlock0.out"
fi

SLOT=$(fb getvar current-slot 2>&1 | awk '/^current-slot:/{print $2}')
[ -n "$SLOT" ] || SLOT=a

# ---- raw flash ----
python3 - "$WORK/dtbo.img" <<'EOF'
import os, sys
open(sys.argv[1], "wb").write(os.urandom(3 * 1024 * 1024 + 123))
EOF
fb flash dtbo "$WORK/dtbo.img" >"$WORK/flash_raw.out" 2>&1
check "flash of a raw image succeeds" grep -q "Writing 'dtbo_$SLOT'.*OKAY" "$WORK/flash_raw.out"
check "status shows the raw image's size and sha256 on dtbo_$SLOT" \
  test "$(part_info "dtbo_$SLOT")" = "$(size "$WORK/dtbo.img") $(sha "$WORK/dtbo.img")"

# ---- sparse flash (img2simg), checked against simg2img ----
python3 - "$WORK/vb.raw" <<'EOF'
import os, sys
data = os.urandom(5 << 20) + bytes(6 << 20) + b"\xde\xad\xbe\xef" * (1 << 20) + os.urandom(1 << 20)
open(sys.argv[1], "wb").write(data)
EOF
img2simg "$WORK/vb.raw" "$WORK/vb.simg" >/dev/null 2>&1
simg2img "$WORK/vb.simg" "$WORK/vb.unsparsed" >/dev/null 2>&1
check "img2simg made a sparse image" \
  python3 -c "import sys; sys.exit(open('$WORK/vb.simg','rb').read(4) != bytes.fromhex('3aff26ed'))"
fb flash vendor_boot "$WORK/vb.simg" >"$WORK/flash_sparse.out" 2>&1
check "flash of a sparse image succeeds" grep -q "Writing 'vendor_boot_$SLOT'.*OKAY" "$WORK/flash_sparse.out"
check "the sparse image lands unsparsed, as simg2img makes it" \
  test "$(part_info "vendor_boot_$SLOT")" = "$(size "$WORK/vb.unsparsed") $(sha "$WORK/vb.unsparsed")"

# ---- bigger than max-download-size: fastboot resparses into pieces ----
BIG=$((MDS_BYTES + 40 * 1024 * 1024))
python3 - "$WORK/big.img" "$BIG" <<'EOF'
import os, sys
path, size = sys.argv[1], int(sys.argv[2])
zeros = 16 << 20
with open(path, "wb") as f:
    left = size - zeros
    f.write(bytes(zeros))
    while left > 0:
        n = min(left, 8 << 20)
        f.write(os.urandom(n))
        left -= n
EOF
fb flash userdata "$WORK/big.img" >"$WORK/flash_big.out" 2>&1
check "an image over max-download-size goes as several sparse pieces" \
  grep -q "Sending sparse 'userdata' 2/" "$WORK/flash_big.out"
check "every piece is written" \
  bash -c "! grep -q FAILED '$WORK/flash_big.out' && grep -q 'Writing .userdata.' '$WORK/flash_big.out'"
check "the resparsed image lands byte for byte" \
  test "$(part_info userdata)" = "$(size "$WORK/big.img") $(sha "$WORK/big.img")"
rm -f "$WORK/big.img"

# ---- locked: flashing refused with the phone's text ----
fb flashing lock >"$WORK/lock.out" 2>&1
check "flashing lock" bash -c "! grep -q FAILED '$WORK/lock.out'"
fb flash dtbo "$WORK/vb.simg" >"$WORK/flash_locked.out" 2>&1
check "flash while locked fails: 'Flashing is not allowed in Lock State'" \
  grep -q "Flashing is not allowed in Lock State" "$WORK/flash_locked.out"
check "the refused flash left dtbo_$SLOT as it was" \
  test "$(part_info "dtbo_$SLOT")" = "$(size "$WORK/dtbo.img") $(sha "$WORK/dtbo.img")"
fb flashing unlock >"$WORK/unlock.out" 2>&1
check "flashing unlock" bash -c "! grep -q FAILED '$WORK/unlock.out'"

# ---- erase ----
fb erase dtbo >"$WORK/erase.out" 2>&1
check "erase succeeds" grep -q "Erasing 'dtbo_$SLOT'.*OKAY" "$WORK/erase.out"
check "an erased partition is empty" \
  test "$(part_info "dtbo_$SLOT" | cut -d' ' -f1)" = "0"

# ---- slots ----
OTHER=b
[ "$SLOT" = b ] && OTHER=a
fb set_active "$OTHER" >"$WORK/setactive.out" 2>&1
check "set_active $OTHER" bash -c "! grep -q FAILED '$WORK/setactive.out'"
check "getvar current-slot says $OTHER" \
  bash -c "timeout 60 fastboot -s tcp:$FB_ADDR getvar current-slot 2>&1 | grep -q '^current-slot: $OTHER'"
fb set_active "$SLOT" >/dev/null 2>&1
check "set_active back to $SLOT" \
  bash -c "timeout 60 fastboot -s tcp:$FB_ADDR getvar current-slot 2>&1 | grep -q '^current-slot: $SLOT'"

# ---- reboot to system ----
fb reboot >"$WORK/reboot.out" 2>&1
check "reboot answers OKAY" grep -q "Rebooting.*OKAY" "$WORK/reboot.out"
check "the adb port answers again after the reboot" wait_port "$ADB_ADDR"
check "droidfix-sim is still running" kill -0 "$SIM_PID"

finish
