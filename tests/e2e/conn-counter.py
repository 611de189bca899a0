#!/usr/bin/env python3
"""A TCP relay that counts connections: conn-counter.py LISTEN_PORT
TARGET_PORT COUNT_FILE. Every accepted connection adds one to COUNT_FILE
and is relayed both ways to 127.0.0.1:TARGET_PORT. Prints "ready" once it
listens. Used to see how often droidfix opens a phone's endpoint."""
import socket
import sys
import threading

listen_port, target_port, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
count = 0


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    pump(upstream, client)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(64)
with open(count_file, "w") as f:
    f.write("0\n")
print("ready", flush=True)
while True:
    conn, _ = srv.accept()
    with lock:
        count += 1
        with open(count_file, "w") as f:
            f.write("%d\n" % count)
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
