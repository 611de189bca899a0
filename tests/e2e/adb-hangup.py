#!/usr/bin/env python3
"""An ADB endpoint that answers like a phone and hangs up on the first
stream (tests/e2e/test_run_all_reboots.sh): to the host's CNXN it answers
with its own CNXN (no auth), then, when the host opens a stream (the probe's
"getprop ro.serialno"), it waits DELAY seconds and closes the connection.
The first SKIP connections are closed at once, so that `run --all` finds
no phone here and the hang-ups come while other phones' runs wait for
their phones. Prints "adb 127.0.0.1:PORT" once it listens."""
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from fake_adbd import CNXN, OPEN, device_cnxn, read_packet, serve_forever  # noqa: E402

delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
skip = int(sys.argv[2]) if len(sys.argv) > 2 else 2


def serve(c):
    try:
        while True:
            p = read_packet(c)
            if p is None:
                break
            cmd = p[0]
            if cmd == CNXN:
                c.sendall(device_cnxn("hangup", "Hangup"))
            elif cmd == OPEN:
                time.sleep(delay)
                break
    except OSError:
        pass
    c.close()


serve_forever(serve, 64, skip)
