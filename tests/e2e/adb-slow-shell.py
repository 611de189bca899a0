#!/usr/bin/env python3
"""An ADB endpoint whose shell commands are slow and silent
(tests/e2e/test_shell_stall.sh): it answers the host's CNXN with its own
(no auth, shell_v2), "getprop ro.serialno" with "slowphone", and
"sleep N" by opening the stream, sending nothing for N seconds, then exit
code 0. Any other service it does not have is refused with CLSE(0, id), as
adbd does (adb.cpp, A_OPEN: create_local_service_socket gives nullptr).

MODE "answer" (the default) is a live phone. MODE "deaf" never answers an
OPEN of a service it does not have: the liveness check droidfix sends
while a command is silent goes unanswered, as on a phone that stopped
(the command's own stream stays silent too). Prints "adb 127.0.0.1:PORT"
once it listens."""
import socket
import struct
import sys
import threading
import time

CNXN, OPEN, OKAY, CLSE, WRTE = 0x4E584E43, 0x4E45504F, 0x59414B4F, 0x45534C43, 0x45545257
mode = sys.argv[1] if len(sys.argv) > 1 else "answer"


def packet(cmd, arg0, arg1, payload=b""):
    return struct.pack("<6I", cmd, arg0, arg1, len(payload), sum(payload) & 0xFFFFFFFF,
                       cmd ^ 0xFFFFFFFF) + payload


def read_packet(c):
    head = b""
    while len(head) < 24:
        got = c.recv(24 - len(head))
        if not got:
            return None
        head += got
    cmd, arg0, arg1, n, _, _ = struct.unpack("<6I", head)
    body = b""
    while len(body) < n:
        got = c.recv(n - len(body))
        if not got:
            return None
        body += got
    return cmd, arg0, arg1, body


def shell_packets(out, code):
    """shell v2: stdout (id 1) then exit (id 3), each id, u32 length, data."""
    data = b""
    if out:
        data += struct.pack("<BI", 1, len(out)) + out
    return data + struct.pack("<BI", 3, 1) + bytes([code])


def serve(c):
    lock = threading.Lock()
    next_id = [100]

    def send(data):
        with lock:
            c.sendall(data)

    def answer(local, remote, out, delay):
        time.sleep(delay)
        try:
            send(packet(WRTE, remote, local, shell_packets(out, 0)))
            send(packet(CLSE, remote, local))
        except OSError:
            pass

    try:
        while True:
            p = read_packet(c)
            if p is None:
                break
            cmd, arg0, _, body = p
            if cmd == CNXN:
                banner = b"device::ro.product.name=slow;ro.product.model=Slow;" \
                         b"ro.product.device=slow;features=shell_v2"
                send(packet(CNXN, 0x01000001, 256 * 1024, banner))
            elif cmd == OPEN:
                name = body.rstrip(b"\0").decode()
                if not name.startswith("shell,v2,raw:"):
                    if mode != "deaf":
                        send(packet(CLSE, 0, arg0))
                    continue
                command = name[len("shell,v2,raw:"):]
                next_id[0] += 1
                remote = next_id[0]
                send(packet(OKAY, remote, arg0))
                if command == "getprop ro.serialno":
                    out, delay = b"slowphone\n", 0.0
                elif command.startswith("sleep "):
                    out, delay = b"", float(command.split()[1])
                else:
                    out, delay = b"", 0.0
                threading.Thread(target=answer, args=(arg0, remote, out, delay),
                                 daemon=True).start()
    except OSError:
        pass
    c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print("adb 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
