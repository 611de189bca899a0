#!/usr/bin/env bash
# Malformed and hostile ADB input against droidfix-sim: bad magic, garbage
# before CNXN, oversized data_length, truncated packets then a disconnect, a
# bad checksum from an old peer, unknown commands, OPEN of unknown services,
# WRTE to unknown streams, bad sync requests, a push cut off in the middle.
# Each gets what adbd gives (a dropped connection, an error reply, or
# silence), and afterwards the sim is alive and serves Google's adb normally.
# A raw client in Python speaks the protocol; flow control (one WRTE in flight
# per stream) and many streams at once are checked on the way.
# Ends with "N passed, N failed".
source "$(dirname "$0")/../lib/harness.sh"

for tool in adb python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is not installed: nothing tested"
    finish
  fi
done
if [ ! -x "$SIM" ]; then
  bad "droidfix-sim is built ($SIM)"
  finish
fi

export ADB_VENDOR_KEYS=

sim_start state --auth accept
PORT=${SIM_ADB:-}
PORT=${PORT##*:}
if [ -z "$PORT" ]; then
  bad "droidfix-sim prints its adb port"
  finish
fi

# The raw client's key, in Google's format.
adb keygen "$WORK/rawkey" >/dev/null 2>&1

cat >"$WORK/malformed.py" <<'PY'
import os, socket, struct, sys, time

PORT = int(sys.argv[1])
PUB = open(sys.argv[2], "rb").read().strip()

def cid(s):
    return struct.unpack("<I", s.encode())[0]

CNXN, AUTH, OPEN, OKAY, CLSE, WRTE = (cid(x) for x in ("CNXN", "AUTH", "OPEN", "OKAY", "CLSE", "WRTE"))
HOST_BANNER = b"host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,fixed_push_symlink_timestamp,abb_exec"

passed = failed = 0

def check(name, cond):
    global passed, failed
    if cond:
        passed += 1
        print("ok   - " + name)
    else:
        failed += 1
        print("FAIL - " + name)

def pkt(cmd, a0, a1, data=b"", checksum=True, magic=None, length=None):
    return struct.pack("<6I", cmd, a0, a1, len(data) if length is None else length,
                       (sum(data) & 0xffffffff) if checksum else 0,
                       (cmd ^ 0xffffffff) if magic is None else magic) + data

class Closed(Exception):
    pass

class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self, n, timeout):
        self.s.settimeout(timeout)
        while len(self.buf) < n:
            try:
                got = self.s.recv(1 << 20)
            except (ConnectionResetError, BrokenPipeError):
                raise Closed()
            if not got:
                raise Closed()
            self.buf += got

    def read(self, timeout=5):
        """Next packet as (cmd, arg0, arg1, data, data_check); Closed on EOF,
        socket.timeout when nothing comes."""
        self._fill(24, timeout)
        cmd, a0, a1, n, chk, magic = struct.unpack("<6I", self.buf[:24])
        self._fill(24 + n, timeout)
        data = self.buf[24:24 + n]
        self.buf = self.buf[24 + n:]
        return cmd, a0, a1, data, chk

    def closed_by_peer(self, timeout=5):
        """True if the sim drops the connection without sending anything."""
        try:
            self.read(timeout)
            return False
        except Closed:
            return True
        except socket.timeout:
            return False

    def silent(self, timeout=0.5):
        try:
            self.read(timeout)
            return False
        except socket.timeout:
            return True
        except Closed:
            return False

    def close(self):
        self.s.close()

def handshake(c, version=0x01000001, maxp=0x100000):
    """CNXN, AUTH token, our public key (the sim accepts it), device CNXN."""
    c.send(pkt(CNXN, version, maxp, HOST_BANNER + b"\0"))
    cmd, a0, _, tok, _ = c.read()
    assert cmd == AUTH and a0 == 1 and len(tok) == 20, "expected AUTH TOKEN"
    c.send(pkt(AUTH, 3, 0, PUB + b"\0"))
    cmd, a0, a1, banner, _ = c.read()
    assert cmd == CNXN, "expected CNXN"
    return a0, a1, banner

def read_stream(c, dev_id, our_id, limit=10):
    """Collects a stream's WRTE data (acking each) until its CLSE."""
    data = b""
    while True:
        cmd, a0, a1, d, _ = c.read(limit)
        if cmd == WRTE and a0 == dev_id and a1 == our_id:
            data += d
            c.send(pkt(OKAY, our_id, dev_id))
        elif cmd == CLSE and a1 == our_id:
            return data

def open_stream(c, local, name):
    c.send(pkt(OPEN, local, 0, name + b"\0"))
    cmd, a0, a1, _, _ = c.read()
    return cmd, a0, a1

def ack_and_reply(c):
    """After we WRTE a request: the device's OKAY for it and its reply WRTE
    come in either order (adbd acks after handing the data on)."""
    reply, acked = None, False
    while reply is None or not acked:
        cmd, a0, a1, d, _ = c.read()
        if cmd == OKAY:
            acked = True
        elif cmd == WRTE:
            reply = (a0, a1, d)
    return reply

def sync_req(id4, payload):
    return id4.encode() + struct.pack("<I", len(payload)) + payload

# 1. bad magic as the very first packet
c = Conn(); c.send(pkt(CNXN, 0x01000001, 0x100000, HOST_BANNER, magic=0x12345678))
check("bad magic: connection dropped", c.closed_by_peer()); c.close()

# 2. garbage (an HTTP request) before any CNXN
c = Conn(); c.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
check("garbage before CNXN: connection dropped", c.closed_by_peer()); c.close()

# 3. oversized data_length (2 MiB) announced in a header
c = Conn(); c.send(pkt(CNXN, 0x01000001, 0x100000, b"", length=2 << 20))
check("data_length over 1 MiB: connection dropped", c.closed_by_peer()); c.close()

# 4. truncated header, truncated payload, then disconnects
c = Conn(); c.send(pkt(CNXN, 0x01000001, 0x100000, HOST_BANNER)[:10]); c.close()
c = Conn(); c.send(pkt(CNXN, 0x01000001, 0x100000, HOST_BANNER)[:40]); c.close()
c = Conn(); c.close()
c = Conn(); handshake(c); c.send(pkt(OPEN, 1, 0, b"shell:echo x\0")[:30]); c.close()
check("truncated packets then disconnect: the sim still answers", handshake(Conn())[2].startswith(b"device::"))

# 5. an old peer (version 0x01000000) must checksum; a bad sum drops it
c = Conn(); p = bytearray(pkt(CNXN, 0x01000000, 4096, HOST_BANNER + b"\0")); p[16] ^= 0xff
c.send(bytes(p))
check("bad checksum from an old peer: connection dropped", c.closed_by_peer()); c.close()
c = Conn(); c.send(pkt(CNXN, 0x01000000, 4096, HOST_BANNER + b"\0"))
cmd, a0, _, tok, chk = c.read()
check("old peer: AUTH TOKEN carries a real checksum", cmd == AUTH and a0 == 1 and len(tok) == 20 and chk == sum(tok))
c.send(pkt(AUTH, 3, 0, PUB + b"\0"))
cmd, ver, maxp, banner, chk = c.read()
# adb.cpp send_connect sends its own A_VERSION; each side then uses the min.
check("old peer: CNXN with max payload 4096, checksummed",
      cmd == CNXN and ver == 0x01000001 and maxp == 4096 and chk == sum(banner))
c.send(pkt(OPEN, 7, 0, b"shell:echo old\0"))
cmd, local, remote, _, _ = c.read()
out = read_stream(c, local, 7) if cmd == OKAY else b""
check("old peer: a shell works with checksums both ways", out == b"old\n")
c.close()

# 6. a wrong signature gets a fresh token; OPEN before auth is ignored
c = Conn(); c.send(pkt(CNXN, 0x01000001, 0x100000, HOST_BANNER + b"\0"))
_, _, _, tok1, _ = c.read()
c.send(pkt(OPEN, 5, 0, b"shell:echo early\0"))
check("OPEN before auth: no answer", c.silent())
c.send(pkt(AUTH, 2, 0, os.urandom(256)))
cmd, a0, _, tok2, _ = c.read()
check("bad signature: a new AUTH TOKEN", cmd == AUTH and a0 == 1 and len(tok2) == 20 and tok2 != tok1)
c.send(pkt(AUTH, 3, 0, PUB))  # not NUL-terminated: adbd refuses the key
check("RSAPUBLICKEY without NUL: no answer", c.silent())
c.close()

# 7. online: unknown commands, unknown services, stray WRTEs, oversize
c = Conn(); ver, maxp, banner = handshake(c, maxp=4096)
check("CNXN answer negotiates version and max payload", ver == 0x01000001 and maxp == 4096)
check("banner names the phone and shell_v2", banner.startswith(b"device::ro.product.name=") and b"shell_v2" in banner)
c.send(pkt(cid("ABCD"), 1, 2, b"xyz", checksum=False))
check("unknown command: ignored, no reply", c.silent())
cmd, a0, a1 = open_stream(c, 11, b"no-such-service:")
check("OPEN of an unknown service: CLSE(0, id)", cmd == CLSE and a0 == 0 and a1 == 11)
cmd, a0, a1 = open_stream(c, 12, b"tcpip:5555")
check("OPEN tcpip: (not offered): CLSE", cmd == CLSE and a1 == 12)
c.send(pkt(WRTE, 99, 12345, b"hello", checksum=False))
check("WRTE to an unknown stream: ignored", c.silent())
cmd, local, remote = open_stream(c, 13, b"shell,v2,raw:echo alive")
out = read_stream(c, local, 13) if cmd == OKAY else b""
check("after all that the connection still serves a shell", out.startswith(b"\x01") and b"alive\n" in out)
c.send(pkt(WRTE, 14, 1, b"x" * 8192, checksum=False))
check("WRTE above the negotiated max payload: connection dropped", c.closed_by_peer())
c.close()

# 8. sync: path too long, unknown request
c = Conn(); handshake(c)
cmd, local, _ = open_stream(c, 21, b"sync:")
c.send(pkt(WRTE, 21, local, sync_req("STAT", b"/" * 2000), checksum=False))
out = read_stream(c, local, 21)
check("sync path over 1024 bytes: FAIL 'path too long' and close",
      out[:4] == b"FAIL" and out[8:] == b"path too long")
cmd, local, _ = open_stream(c, 22, b"sync:")
c.send(pkt(WRTE, 22, local, sync_req("ZZZZ", b"/sdcard"), checksum=False))
out = read_stream(c, local, 22)
check("unknown sync request: FAIL 'unknown command'", out[:4] == b"FAIL" and b"unknown command" in out)
c.close()

# 9. sync push and pull with a 4096-byte max payload: chunking, flow control
c = Conn(); handshake(c, maxp=4096)
cmd, local, _ = open_stream(c, 31, b"sync:")
body = os.urandom(20000)
stream = sync_req("SEND", b"/sdcard/Download/raw.bin,33188")
for i in range(0, len(body), 7000):
    part = body[i:i + 7000]
    stream += b"DATA" + struct.pack("<I", len(part)) + part
stream += b"DONE" + struct.pack("<I", 1700000000)
acks, reply = 0, None
for i in range(0, len(stream), 4096):  # WRTE boundaries cut through messages
    c.send(pkt(WRTE, 31, local, stream[i:i + 4096], checksum=False))
    # the ack, and after DONE also the reply (in either order)
    while True:
        cmd, a0, a1, d, _ = c.read()
        if cmd == OKAY:
            acks += 1
        elif cmd == WRTE:
            reply = d
        if cmd == OKAY and (i + 4096 < len(stream) or reply is not None):
            break
check("every WRTE of the push is acked with OKAY", acks == (len(stream) + 4095) // 4096)
check("SEND in pieces across WRTEs: OKAY", reply is not None and reply[:4] == b"OKAY")
c.send(pkt(OKAY, 31, local))
c.send(pkt(WRTE, 31, local, sync_req("RECV", b"/sdcard/Download/raw.bin"), checksum=False))
_, _, first = ack_and_reply(c)
check("RECV: WRTEs fit the 4096-byte max payload", len(first) <= 4096)
check("RECV: no second WRTE before our OKAY", c.silent(0.3))
got = first
c.send(pkt(OKAY, 31, local))
while True:
    # parse what we have: DATA chunks then DONE
    pos, data, done = 0, b"", False
    while pos + 8 <= len(got):
        mid, n = got[pos:pos + 4], struct.unpack("<I", got[pos + 4:pos + 8])[0]
        if mid == b"DONE":
            done = True
            break
        if pos + 8 + n > len(got):
            break
        data += got[pos + 8:pos + 8 + n]
        pos += 8 + n
    if done:
        break
    cmd, a0, a1, d, _ = c.read()
    got += d
    c.send(pkt(OKAY, 31, local))
check("RECV returns the pushed bytes", data == body)
c.send(pkt(WRTE, 31, local, sync_req("QUIT", b""), checksum=False))
c.close()

# 10. a push cut off mid-way leaves no file behind
c = Conn(); handshake(c)
cmd, local, _ = open_stream(c, 41, b"sync:")
c.send(pkt(WRTE, 41, local, sync_req("SEND", b"/sdcard/Download/cut.bin,33188") +
           b"DATA" + struct.pack("<I", 65536) + b"z" * 1000, checksum=False))
c.read()
c.close()
time.sleep(0.2)
c = Conn(); handshake(c)
cmd, local, _ = open_stream(c, 42, b"sync:")
c.send(pkt(WRTE, 42, local, sync_req("STAT", b"/sdcard/Download/cut.bin"), checksum=False))
_, _, st = ack_and_reply(c)
check("push cut off: the file does not exist", st[:4] == b"STAT" and st[4:16] == b"\0" * 12)
c.close()

# 11. many streams at once on one connection
c = Conn(); handshake(c)
ids = {}
for i in range(1, 17):
    c.send(pkt(OPEN, 100 + i, 0, b"shell,v2,raw:echo s%d\0" % i))
outs = {100 + i: b"" for i in range(1, 17)}
closed = set()
while len(closed) < 16:
    cmd, a0, a1, d, _ = c.read()
    if cmd == OKAY and a1 in outs and a1 not in ids:
        ids[a1] = a0
    elif cmd == WRTE:
        outs[a1] += d
        c.send(pkt(OKAY, a1, a0))
    elif cmd == CLSE:
        closed.add(a1)
check("16 streams at once each get their own output and exit code",
      all(b"s%d\n" % (k - 100) in v and v.endswith(b"\x03\x01\x00\x00\x00\x00") for k, v in outs.items()))
c.close()

print("PY %d %d" % (passed, failed))
PY

python3 "$WORK/malformed.py" "$PORT" "$WORK/rawkey.pub" >"$WORK/py.out" 2>&1
grep -v '^PY ' "$WORK/py.out"
if grep -q '^PY ' "$WORK/py.out"; then
  read -r _ py_passed py_failed < <(grep '^PY ' "$WORK/py.out")
else
  echo "FAIL - the raw client stopped early"
  py_passed=$(grep -c '^ok ' "$WORK/py.out")
  py_failed=$(($(grep -c '^FAIL ' "$WORK/py.out") + 1))
fi
PASSED=$((PASSED + py_passed))
FAILED=$((FAILED + py_failed))

if kill -0 "$SIM_PID" 2>/dev/null; then ok "droidfix-sim is still running"; else bad "droidfix-sim is still running"; fi

# Google's adb still works against it.
ADB_SERVER_PORT=$(free_port)
adb -P "$ADB_SERVER_PORT" start-server >/dev/null 2>&1
adb -P "$ADB_SERVER_PORT" connect "127.0.0.1:$PORT" >/dev/null 2>&1
adb -P "$ADB_SERVER_PORT" -s "127.0.0.1:$PORT" wait-for-device >/dev/null 2>&1 &
wpid=$!
for _ in $(seq 1 100); do kill -0 $wpid 2>/dev/null || break; sleep 0.1; done
kill $wpid 2>/dev/null
out=$(adb -P "$ADB_SERVER_PORT" -s "127.0.0.1:$PORT" shell echo still-serving 2>&1)
if [ "$out" = "still-serving" ]; then ok "adb shell works afterwards"; else bad "adb shell works afterwards ($out)"; fi

finish
