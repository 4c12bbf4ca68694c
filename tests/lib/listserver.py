#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""listserver.py - a list publisher on loopback for the mailedge-listsync tests.

    listserver.py --dir DIR [--log FILE] [--tls CERT KEY]

Serves the files in DIR over plain HTTP on 127.0.0.1 and, with --tls, over
HTTPS too, each on a free port. When both listen it prints one line on stdout,
"HTTP_PORT HTTPS_PORT" (0 for HTTPS without --tls), and then only logs, one
line per request to FILE (or stderr):

    METHOD PATH STATUS inm=<If-None-Match or -> ims=<If-Modified-Since or ->

Paths (NAME is a file in DIR; DIR is re-read on every request, so a test can
change a list between runs):

  /f/NAME                 the file, with ETag and Last-Modified; 304 when
                          If-None-Match (or, without it, If-Modified-Since)
                          matches
  /lm/NAME                the same with Last-Modified only (no ETag)
  /count/NAME             like /f/NAME; /_count/NAME answers how many requests
                          /count/NAME has had (text, no newline)
  /status/NNN             status NNN with a short HTML body
  /html200                an HTML error page with status 200
  /slow/NAME              headers and the first line of NAME (unless that is all
                          of it), then silence for 60 s, longer than any test's
                          timeout
  /cut/NAME               Content-Length of the whole file, but only the first
                          half sent (ending mid-line), then the connection closes
  /cutclose/NAME          no Content-Length (close-delimited), the first half of
                          the file, ending mid-line, then the connection closes
  /big/N                  N bytes of valid list lines with Content-Length
  /bigstream/N            the same without Content-Length (close-delimited)
  /redirect/NAME          302 to /f/NAME on the same server
  /redirect-to-http/NAME  302 to http://127.0.0.1:HTTP_PORT/f/NAME
  /delay/NAME             like /f/NAME, after 1.5 s
  /x/NAME                 whatever the file NAME.mode says, one line "KIND [ARG]"
                          where KIND is one of the paths above (f, lm, slow, cut,
                          cutclose, redirect, redirect-to-http, delay, html200;
                          "status NNN"; "big N", "bigstream N"), applied to NAME;
                          /f/NAME when there is no NAME.mode. A test can so make
                          one URL serve a good list, then fail.

The process ends at once on SIGTERM, and when its standard input is closed.
"""
import argparse
import email.utils
import hashlib
import http.server
import os
import signal
import socketserver
import ssl
import sys
import threading
import time

SLOW_SECONDS = 60
DELAY_SECONDS = 1.5

counts = {}
counts_lock = threading.Lock()
log_lock = threading.Lock()
log_file = None
http_port = 0


def log_line(text):
    with log_lock:
        log_file.write(text + "\n")
        log_file.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: a response without Content-Length is delimited by the close,
    # and every connection carries one request (simple, and what cut needs).
    protocol_version = "HTTP/1.0"
    server_version = "listserver/1"

    def log_message(self, fmt, *args):  # silence the default stderr log
        pass

    def log_request(self, code="-", size="-"):
        log_line("%s %s %s inm=%s ims=%s" % (
            self.command, self.path, code,
            self.headers.get("If-None-Match", "-"),
            self.headers.get("If-Modified-Since", "-")))

    def read_fixture(self, name):
        if not name or "/" in name or name.startswith("."):
            return None, None
        path = os.path.join(self.server.root, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
            return data, os.stat(path).st_mtime
        except OSError:
            return None, None

    def plain(self, code, body, ctype="text/html; charset=utf-8"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def not_found(self):
        self.plain(404, b"<html><body><h1>404 Not Found</h1></body></html>\n")

    def serve_file(self, name, with_etag):
        data, mtime = self.read_fixture(name)
        if data is None:
            return self.not_found()
        etag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
        lastmod = email.utils.formatdate(int(mtime), usegmt=True)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = False
        if with_etag and inm is not None:
            fresh = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims is not None:
            try:
                fresh = int(mtime) <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            self.send_response(304)
            if with_etag:
                self.send_header("ETag", etag)
            self.send_header("Last-Modified", lastmod)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if with_etag:
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", lastmod)
        self.end_headers()
        self.wfile.write(data)

    def half(self, data):
        """The first half of data, moved so it ends mid-line."""
        cut = len(data) // 2
        while cut > 1 and data[cut - 1:cut] in (b"\n", b""):
            cut -= 1
        return data[:cut]

    def do_GET(self):
        parts = self.path.split("?", 1)[0].split("/", 2)
        kind = parts[1] if len(parts) > 1 else ""
        arg = parts[2] if len(parts) > 2 else ""
        if kind == "x":
            # The behaviour of this URL is whatever NAME.mode says: one URL
            # that can serve a good list first and fail later, as a real
            # publisher's does.
            mode, _ = self.read_fixture(arg + ".mode")
            mode = mode.decode().split() if mode else ["f"]
            kind = mode[0]
            if kind in ("status", "big", "bigstream"):
                arg = mode[1] if len(mode) > 1 else "65536"
        return self.dispatch(kind, arg)

    def dispatch(self, kind, arg):
        if kind == "delay":
            time.sleep(DELAY_SECONDS)
            kind = "f"
        if kind in ("f", "count"):
            if kind == "count":
                with counts_lock:
                    counts[arg] = counts.get(arg, 0) + 1
            return self.serve_file(arg, True)
        if kind == "lm":
            return self.serve_file(arg, False)
        if kind == "_count":
            with counts_lock:
                n = counts.get(arg, 0)
            return self.plain(200, str(n).encode(), "text/plain")
        if kind == "status" and arg.isdigit():
            code = int(arg)
            return self.plain(code, b"<html><body><h1>%d</h1></body></html>\n" % code)
        if kind == "html200":
            return self.plain(200, b"<!DOCTYPE html>\n<html><head><title>Service "
                              b"Unavailable</title></head>\n<body><h1>We are down for "
                              b"maintenance</h1>\n<p>Please try again later.</p></body>"
                              b"</html>\n")
        if kind == "slow":
            data, _ = self.read_fixture(arg)
            if data is None:
                return self.not_found()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            first = data.split(b"\n", 1)[0] + b"\n"
            if len(first) < len(data):  # never the whole body: it must stall
                self.wfile.write(first)
            self.wfile.flush()
            self.server.stopping.wait(SLOW_SECONDS)
            return
        if kind in ("cut", "cutclose"):
            data, _ = self.read_fixture(arg)
            if data is None:
                return self.not_found()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            if kind == "cut":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(self.half(data))
            self.wfile.flush()
            self.close_connection = True
            return
        if kind in ("big", "bigstream") and arg.isdigit():
            n = int(arg)
            line = b"192.0.2.1\n"
            body = line * (n // len(line) + 1)
            body = body[:n - n % len(line)] if n >= len(line) else line
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            if kind == "big":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 4096):
                try:
                    self.wfile.write(body[i:i + 4096])
                except OSError:
                    break  # the client gave up, as it should
            return
        if kind in ("redirect", "redirect-to-http"):
            if kind == "redirect":
                target = "/f/" + arg
            else:
                target = "http://127.0.0.1:%d/f/%s" % (http_port, arg)
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self.not_found()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root, tls_ctx):
        self.root = root
        self.tls_ctx = tls_ctx
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake happens in the request's own thread, so a client
        # that gives up mid-handshake (wrong CA) stalls nobody else.
        if self.tls_ctx is not None:
            try:
                request.settimeout(30)
                request = self.tls_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log_line("TLS handshake failed: %s" % e)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        log_line("error: %s" % (sys.exc_info()[1],))


def main():
    global log_file, http_port
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    log_file = open(a.log, "a", buffering=1) if a.log else sys.stderr

    servers = [Server(a.dir, None)]
    http_port = servers[0].server_address[1]
    https_port = 0
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        servers.append(Server(a.dir, ctx))
        https_port = servers[1].server_address[1]
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()

    # Nothing to save on the way out: SIGTERM ends the process at once, stalled
    # handlers and all.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def watch_stdin():
        # The test holds our stdin open; if it dies, so do we.
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        done.set()
    threading.Thread(target=watch_stdin, daemon=True).start()

    print("%d %d" % (http_port, https_port), flush=True)
    while not done.wait(0.2):
        pass
    for s in servers:
        s.stopping.set()
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
