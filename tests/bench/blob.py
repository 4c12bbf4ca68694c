#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""blob.py - a bulk-transfer server and client for the TLS offload benchmark.

  blob.py serve PORT SIZE
      An IMAP-shaped server on 127.0.0.1:PORT: greets "* OK blob ready", and
      answers every "TAG FETCH" with a literal of SIZE bytes and "TAG OK"; a
      "TAG LOGOUT" ends the connection. It stands for the mail store behind
      an offload listener: what is measured is the path in front of it.

  blob.py fetch PORT COUNT CONNS [--tls]
      CONNS connections (TLS or not, certificates not checked) fetch COUNT
      blobs in all, each connection one after another; prints
      "bytes=N seconds=S mbps=M" (megabytes per second of payload).

Python 3 standard library only.
"""
import socket
import ssl
import sys
import threading
import time


def serve(port, size):
    blob = b"x" * size
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(256)

    def handle(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = c.makefile("rb")
        try:
            c.sendall(b"* OK blob ready\r\n")
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                tag, cmd = parts[0], parts[1].upper()
                if cmd == b"FETCH":
                    c.sendall(b"* 1 FETCH (BODY[] {%d}\r\n" % size)
                    c.sendall(blob)
                    c.sendall(b")\r\n" + tag + b" OK FETCH done\r\n")
                elif cmd == b"LOGOUT":
                    c.sendall(b"* BYE\r\n" + tag + b" OK LOGOUT\r\n")
                    break
                else:
                    c.sendall(tag + b" OK\r\n")
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def read_until(s, buf, end):
    while end not in buf:
        d = s.recv(262144)
        if not d:
            raise EOFError("closed")
        buf += d
    i = buf.index(end) + len(end)
    return buf[:i], buf[i:]


def fetch_conn(port, n, use_tls, out):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port))
    s = ctx.wrap_socket(raw) if use_tls else raw
    buf = b""
    got = 0
    _, buf = read_until(s, buf, b"\r\n")
    for i in range(n):
        s.sendall(b"a%d FETCH 1 BODY[]\r\n" % i)
        head, buf = read_until(s, buf, b"}\r\n")
        size = int(head[head.rindex(b"{") + 1:-3])
        # The literal is counted, not kept: only what follows it matters.
        left = size - len(buf)
        buf = b"" if left >= 0 else buf[size:]
        chunk = bytearray(262144)
        while left > 0:
            n = s.recv_into(chunk, min(left, len(chunk)))
            if not n:
                raise EOFError("closed in a literal")
            left -= n
        got += size
        _, buf = read_until(s, buf, b" OK FETCH done\r\n")
    s.sendall(b"z LOGOUT\r\n")
    s.close()
    out.append(got)


def fetch(port, count, conns, use_tls):
    out = []
    per = [count // conns + (1 if i < count % conns else 0) for i in range(conns)]
    ts = [threading.Thread(target=fetch_conn, args=(port, k, use_tls, out)) for k in per if k]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    total = sum(out)
    print("bytes=%d seconds=%.3f mbps=%.1f" % (total, dt, total / dt / 1e6))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "fetch":
        fetch(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), "--tls" in sys.argv[5:])
    else:
        sys.exit("usage: blob.py serve PORT SIZE | fetch PORT COUNT CONNS [--tls]")
