#!/usr/bin/env bash
# droidfix-sim's fastboot port against malformed input: a bad handshake, an
# absurd frame length, a command over 64 bytes, unknown and empty commands, a
# bad download size, a data frame longer than announced, a download cut
# mid-way and abrupt disconnects. Each gets a FAIL or a dropped connection,
# never a crash; the cut download never becomes a partition's content; and
# Google's fastboot still works afterwards.
source "$(dirname "$0")/../lib/harness.sh"

for tool in fastboot python3; do
  command -v "$tool" >/dev/null || { bad "$tool is installed"; finish; }
done
[ -x "$SIM" ] || { bad "droidfix-sim is built ($SIM)"; finish; }

STATE="$WORK/state"
sim_start state --adb-port 0 --fastboot-port 0 --boot-ms 200
FB_ADDR=${SIM_FB:-}
[ -n "$FB_ADDR" ] || { bad "droidfix-sim serve prints its fastboot port"; finish; }
"$SIM" press --state-dir "$STATE" fastboot >/dev/null 2>&1

status_json() { "$SIM" status --state-dir "$STATE"; }

# The Python part prints "ok: ..." / "FAILED: ..." lines; they are counted.
python3 - "$FB_ADDR" "$SIM" "$STATE" >"$WORK/py.out" 2>&1 <<'EOF'
import json, socket, struct, subprocess, sys, time

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
sim, state = sys.argv[2], sys.argv[3]

def report(good, what):
    print(("ok: " if good else "FAILED: ") + what, flush=True)

def connect(handshake=True):
    end = time.time() + 20
    while True:
        try:
            s = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.1)
    if handshake:
        s.sendall(b"FB01")
        assert s.recv(4, socket.MSG_WAITALL) == b"FB01"
    return s

def send_frame(s, data):
    s.sendall(struct.pack(">Q", len(data)) + data)

def reply(s):
    head = s.recv(8, socket.MSG_WAITALL)
    if len(head) < 8:
        return None
    n = struct.unpack(">Q", head)[0]
    return s.recv(n, socket.MSG_WAITALL)

def command(s, text):
    send_frame(s, text)
    return reply(s)

def dropped(s):
    """True if the peer closes the connection (EOF or reset) within 5 s."""
    try:
        s.settimeout(5)
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False

def alive(what):
    try:
        s = connect()
        r = command(s, b"getvar:product")
        s.close()
        report(r == b"OKAYvermeer", "still answers after " + what)
    except OSError as e:
        report(False, "still answers after %s (%s)" % (what, e))

def partitions():
    out = subprocess.run([sim, "status", "--state-dir", state], capture_output=True, text=True).stdout
    return json.dumps(json.loads(out).get("partitions"), sort_keys=True)

# Wait for the bootloader.
connect().close()
report(True, "the fastboot port answers")
slot = "a"
s = connect()
r = command(s, b"getvar:current-slot")
if r and r.startswith(b"OKAY") and r[4:]:
    slot = r[4:].decode()
if command(s, b"getvar:unlocked") == b"OKAYno":
    command(s, b"flashing unlock")
s.close()

# 1. A bad handshake: dropped.
s = connect(handshake=False)
s.sendall(b"HELO")
report(dropped(s), "a bad handshake drops the connection")
alive("a bad handshake")

# 2. Handshake version 00: dropped.
s = connect(handshake=False)
s.sendall(b"FB00")
report(dropped(s), "handshake version 00 drops the connection")

# 3. An absurd frame length.
s = connect()
s.sendall(struct.pack(">Q", 1 << 62) + b"getvar:product")
report(dropped(s), "a frame length of 2^62 drops the connection")
alive("an absurd frame length")

# 4. A command over 64 bytes: FAIL, and the connection goes on.
s = connect()
r = command(s, b"getvar:" + b"x" * 100)
report(r is not None and r.startswith(b"FAIL"), "a 107-byte command gets FAIL (%r)" % r)
r = command(s, b"getvar:product")
report(r == b"OKAYvermeer", "the same connection still works after it")
s.close()

# 5. Unknown, empty and binary commands.
s = connect()
for cmd in (b"frobnicate", b"", b"getvar\x00product", b"\xff\xfe\x00\x01", b"oem no-such-thing"):
    r = command(s, cmd)
    report(r is not None and r.startswith(b"FAIL"), "command %r gets FAIL (%r)" % (cmd, r))
s.close()

# 6. Bad download sizes.
s = connect()
for cmd in (b"download:", b"download:zzzzzzzz", b"download:123456789", b"download:-0000001",
            b"download:00000000", b"download:ffffffff"):
    r = command(s, cmd)
    report(r is not None and r.startswith(b"FAIL"), "%r gets FAIL (%r)" % (cmd, r))
s.close()

# 7. A data frame longer than the download announced: dropped.
s = connect()
r = command(s, b"download:00000010")
report(r == b"DATA00000010", "download:00000010 gets DATA00000010")
s.sendall(struct.pack(">Q", 0x20) + b"y" * 0x20)
report(dropped(s), "a data frame longer than announced drops the connection")

# 8. A download cut mid-way, then flash: refused, partition unchanged.
before = partitions()
s = connect()
r = command(s, b"download:00100000")
report(r == b"DATA00100000", "download:00100000 gets DATA00100000")
s.sendall(struct.pack(">Q", 0x100000) + b"z" * 0x80000)
s.close()
time.sleep(0.2)
s = connect()
r = command(s, ("flash:dtbo_%s" % slot).encode())
report(r is not None and r.startswith(b"FAIL"), "flash after a cut download gets FAIL (%r)" % r)
s.close()
report(partitions() == before, "the cut download did not become any partition's content")

# 9. A download in several frames works (the sim must not assume one frame).
s = connect()
r = command(s, b"download:00000300")
ok = r == b"DATA00000300"
for piece in (b"a" * 0x100, b"b" * 0x100, b"c" * 0x100):
    send_frame(s, piece)
r = reply(s)
report(ok and r == b"OKAY", "a download split over three frames completes (%r)" % r)
s.close()

# 10. Garbage, half headers and abrupt disconnects, many times.
for i in range(20):
    s = connect(handshake=(i % 2 == 0))
    s.sendall([b"\x00\x00\x00", b"FB", b"\x00" * 7, b"\xff" * 50, b"download:0000"][i % 5])
    if i % 3 == 0:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    s.close()
alive("20 abrupt disconnects")
EOF
cat "$WORK/py.out"
PASSED=$((PASSED + $(grep -c '^ok: ' "$WORK/py.out")))
FAILED=$((FAILED + $(grep -c '^FAILED: ' "$WORK/py.out")))
if grep -q Traceback "$WORK/py.out"; then bad "the Python checks ran to the end"; fi

if kill -0 "$SIM_PID" 2>/dev/null; then ok "droidfix-sim is still running"; else bad "droidfix-sim is still running"; fi
if timeout 30 fastboot -s "tcp:$FB_ADDR" getvar product 2>&1 | grep -q '^product: vermeer'; then
  ok "Google's fastboot still works afterwards"
else
  bad "Google's fastboot still works afterwards"
fi
finish
