#!/usr/bin/env python3
"""An ADB endpoint that answers like a phone and hangs up on the first
stream (tests/e2e/test_run_all_reboots.sh): to the host's CNXN it answers
with its own CNXN (no auth), then, when the host opens a stream (the probe's
"getprop ro.serialno"), it waits DELAY seconds and closes the connection.
The first SKIP connections are closed at once, so that `run --all` finds
no phone here and the hang-ups come while other phones' runs wait for
their phones. Prints "adb 127.0.0.1:PORT" once it listens."""
import socket
import struct
import sys
import threading
import time

CNXN, OPEN = 0x4E584E43, 0x4E45504F
delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
skip = int(sys.argv[2]) if len(sys.argv) > 2 else 2


def packet(cmd, arg0, arg1, payload):
    return struct.pack("<6I", cmd, arg0, arg1, len(payload), sum(payload) & 0xFFFFFFFF,
                       cmd ^ 0xFFFFFFFF) + payload


def read_packet(c):
    head = b""
    while len(head) < 24:
        got = c.recv(24 - len(head))
        if not got:
            return None
        head += got
    cmd, _, _, n, _, _ = struct.unpack("<6I", head)
    body = b""
    while len(body) < n:
        got = c.recv(n - len(body))
        if not got:
            return None
        body += got
    return cmd


def serve(c):
    try:
        while True:
            cmd = read_packet(c)
            if cmd is None:
                break
            if cmd == CNXN:
                banner = b"device::ro.product.name=hangup;ro.product.model=Hangup;" \
                         b"ro.product.device=hangup;features=shell_v2"
                c.sendall(packet(CNXN, 0x01000001, 256 * 1024, banner))
            elif cmd == OPEN:
                time.sleep(delay)
                break
    except OSError:
        pass
    c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
print("adb 127.0.0.1:%d" % s.getsockname()[1], flush=True)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    if n <= skip:
        c.close()
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
