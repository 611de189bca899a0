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
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from fake_adbd import CLSE, CNXN, OKAY, OPEN, WRTE, device_cnxn, packet, read_packet, \
    serve_forever  # noqa: E402

mode = sys.argv[1] if len(sys.argv) > 1 else "answer"


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
                send(device_cnxn("slow", "Slow"))
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


serve_forever(serve, 16)
