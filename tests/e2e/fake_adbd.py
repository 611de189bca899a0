"""The ADB wire protocol shared by the small fake phones in tests/e2e
(adb-slow-shell.py, adb-hangup.py): packets framed as adbd frames them
(six little-endian u32: command, arg0, arg1, payload length, payload sum,
command ^ 0xffffffff), the device's CNXN with its banner (no auth), and a
loopback listener that prints "adb 127.0.0.1:PORT" once it listens.
The scripts import it from their own folder (python puts a script's folder
first on sys.path)."""
import socket
import struct
import threading

CNXN, OPEN, OKAY, CLSE, WRTE = 0x4E584E43, 0x4E45504F, 0x59414B4F, 0x45534C43, 0x45545257


def packet(cmd, arg0, arg1, payload=b""):
    return struct.pack("<6I", cmd, arg0, arg1, len(payload), sum(payload) & 0xFFFFFFFF,
                       cmd ^ 0xFFFFFFFF) + payload


def read_packet(c):
    """(cmd, arg0, arg1, payload), or None when the host closed."""
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


def device_cnxn(name, model):
    """The device's CNXN (version 0x01000001, 256 KiB max payload), with
    ro.product.name and .device NAME, .model MODEL, feature shell_v2."""
    banner = ("device::ro.product.name=%s;ro.product.model=%s;"
              "ro.product.device=%s;features=shell_v2" % (name, model, name)).encode()
    return packet(CNXN, 0x01000001, 256 * 1024, banner)


def serve_forever(serve, backlog, skip=0):
    """Listens on a free loopback port, prints it, and runs serve(conn) on a
    thread of its own for each connection; the first skip connections are
    closed at once."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    print("adb 127.0.0.1:%d" % s.getsockname()[1], flush=True)
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        if n <= skip:
            conn.close()
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
