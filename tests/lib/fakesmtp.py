#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fakesmtp.py - a scriptable fake SMTP server (and load client) for the
mailedge-proxy tests. Python 3 standard library only.

  fakesmtp.py serve --log FILE [options]
      Listen on a free port of 127.0.0.1 and print "PORT\\n" on standard
      output once listening. Every connection and everything received
      is written to FILE as JSON lines (one object per event, "ev" says which):

        connect   {conn, peer, port}
        proxy     {conn, version 1|2, command PROXY|LOCAL|UNKNOWN, family,
                   src, sport, dst, dport, late}   (late: arrived after our
                   greeting, i.e. without --expect-proxy)
        cmd       {conn, line}            every command line, as received
        ehlo      {conn, name, verb}
        xclient   {conn, attrs{NAME: value}}
        auth      {conn, mech, user, ok}
        mail      {conn, from, params}
        rcpt      {conn, to}
        message   {conn, from, rcpts, size, data, sha256, bare_cr, bare_lf,
                   nul, queue_id, msgid}  data: the bytes as latin-1 text
                                          (cut when over 256 KiB)
        aborted   {conn, size, data}      the connection ended inside DATA
        died      {conn}                  die_in_data closed the connection
        close     {conn}

      Some settings can be changed while it runs: the file given with
      --control holds a JSON object ({"greeting": "421 4.3.2 going down",
      "die_in_data": true}) read at every new connection; keys it has win
      over the command line. Only there:
      "greeting" (the first reply instead of "220 fake ESMTP fake"; one that
      is not 220 is sent and the connection closed, as a server shutting down
      does),
      "die_in_data" (close the connection once message bytes arrive),
      "data_end_reply" (the reply to the end of DATA instead of 250),
      "close_after_data" (close once the message is answered),
      "read_delay_ms" (a slow reader: sleep before each read inside DATA).

      The server is named "fake" and advertises SIZE 52428800.
      --xclient           advertise XCLIENT and accept it (answer 220)
      --auth USER:PASS    advertise AUTH PLAIN LOGIN; accept this pair (235),
                          refuse others (535)
      --chunking          advertise CHUNKING (BDAT is answered 250 and logged)
      --dsn               advertise DSN
      --smtputf8          advertise SMTPUTF8
      --expect-proxy      read a PROXY v1/v2 header before greeting
      --lenient-dot       also end DATA at a bare-LF/bare-CR dot line, the way
                          a vulnerable server would (smuggling tests)
      --delay WHAT=MS     wait before answering: greeting, ehlo, mail, rcpt,
                          data, data_end, quit, rset, auth (repeatable)
      --reject-rcpt TEXT  answer RCPT with this reply (e.g. "550 5.1.1 no")

  fakesmtp.py load --port P --sessions M --messages N --log FILE [--tag T]
      A load client: M concurrent sessions deliver N messages with unique ids
      (header X-Load-Id: T-k and Message-ID <T-k@load.test>). A message that
      gets anything but 250 at the end of DATA (or whose connection breaks) is
      retried. Each 250 is logged {"ev":"ack","id":..,"reply":..}, each failed
      attempt {"ev":"fail","id":..,"stage":..,"reply":..}; at the end a line
      {"ev":"done","acked":..,"attempts":..,"failures":..} is logged and printed.

The server exits when its standard input reaches end of file (the test that
started it is gone); both exit on SIGTERM.
"""
import argparse
import base64
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time

PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
NAME = "fake"  # the server's name in its greeting and EHLO reply
SIZE = 52428800  # the SIZE it advertises

log_lock = threading.Lock()
log_file = None


def log(ev, **kw):
    kw = dict(ev=ev, t=round(time.time(), 3), **kw)
    line = json.dumps(kw, ensure_ascii=True)
    with log_lock:
        log_file.write(line + "\n")
        log_file.flush()


def die_with_stdin():
    """Exit when standard input closes (the parent test died)."""
    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def xtext_decode(s):
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), s)


class Closed(Exception):
    pass


class Conn:
    """Line and byte reading over a socket, with a buffer."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def fill(self, timeout=None):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            raise Closed()
        if not d:
            raise Closed()
        self.buf += d
        return True

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 100000:
                raise Closed()
            self.fill(300)
        i = self.buf.index(b"\n")
        ln, self.buf = self.buf[:i + 1], self.buf[i + 1:]
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            self.fill(10)
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def send(self, text):
        try:
            self.s.sendall(text.encode("latin-1") if isinstance(text, str) else text)
        except OSError:
            raise Closed()


def parse_proxy(c):
    """Read a PROXY v1 or v2 header from the front of c.buf (filling it)."""
    deadline = time.time() + 5
    while len(c.buf) < 16 and not c.buf.startswith(b"PROXY ") and (
            PP2_SIG.startswith(c.buf[:12]) or b"PROXY ".startswith(c.buf[:6])):
        if time.time() > deadline:
            return None
        c.fill(0.5)
    if c.buf.startswith(PP2_SIG):
        hdr = c.exact(16)
        ver_cmd, fam, length = hdr[12], hdr[13], struct.unpack("!H", hdr[14:16])[0]
        body = c.exact(length)
        r = dict(version=ver_cmd >> 4,
                 command={0: "LOCAL", 1: "PROXY"}.get(ver_cmd & 15, "?"),
                 family={0x11: "TCP4", 0x21: "TCP6", 0x00: "UNSPEC"}.get(fam, hex(fam)),
                 length=length)
        if fam == 0x11 and length >= 12:
            r.update(src=str(ipaddress.IPv4Address(body[0:4])),
                     dst=str(ipaddress.IPv4Address(body[4:8])),
                     sport=struct.unpack("!H", body[8:10])[0],
                     dport=struct.unpack("!H", body[10:12])[0])
        elif fam == 0x21 and length >= 36:
            r.update(src=str(ipaddress.IPv6Address(body[0:16])),
                     dst=str(ipaddress.IPv6Address(body[16:32])),
                     sport=struct.unpack("!H", body[32:34])[0],
                     dport=struct.unpack("!H", body[34:36])[0])
        return r
    if c.buf.startswith(b"PROXY "):
        ln = c.line().decode("latin-1").rstrip("\r\n")
        f = ln.split(" ")
        r = dict(version=1, line=ln, family=f[1] if len(f) > 1 else "?")
        if len(f) == 6:
            r.update(command="PROXY", src=f[2], dst=f[3], sport=int(f[4]), dport=int(f[5]))
        else:
            r.update(command="UNKNOWN")
        return r
    return None


class Server:
    def __init__(self, a):
        self.a = a
        self.nconn = 0
        self.lock = threading.Lock()
        self.nmsg = 0

    def settings(self):
        s = dict(greeting="", die_in_data=False,
                 delays=self.a.delays, reject_rcpt=self.a.reject_rcpt,
                 data_end_reply="", close_after_data=False, read_delay_ms=0)
        if self.a.control:
            try:
                with open(self.a.control) as f:
                    ctl = json.load(f)
                s.update(ctl)
            except (OSError, ValueError):
                pass
        return s

    def delay(self, st, what):
        ms = st["delays"].get(what, 0)
        if ms:
            time.sleep(ms / 1000.0)

    def ehlo_reply(self):
        a = self.a
        lines = [NAME, "PIPELINING", "SIZE %d" % SIZE, "8BITMIME"]
        if a.dsn:
            lines.append("DSN")
        if a.smtputf8:
            lines.append("SMTPUTF8")
        if a.xclient:
            lines.append("XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT")
        if a.auth:
            lines.append("AUTH PLAIN LOGIN")
        if a.chunking:
            lines.append("CHUNKING")
        lines.append("ENHANCEDSTATUSCODES")
        return "".join("250%s%s\r\n" % ("-" if i < len(lines) - 1 else " ", l)
                       for i, l in enumerate(lines))

    def handle(self, sock, peer):
        with self.lock:
            self.nconn += 1
            cid = self.nconn
        c = Conn(sock)
        st = self.settings()
        log("connect", conn=cid, peer=peer[0], port=peer[1])
        try:
            self.session(c, cid, st)
        except Closed:
            pass
        except Exception as e:  # a bug here must show in the log, not hang
            log("error", conn=cid, what=repr(e))
        try:
            sock.close()
        except OSError:
            pass
        log("close", conn=cid)

    def session(self, c, cid, st):
        a = self.a
        if a.expect_proxy:
            p = parse_proxy(c)
            if p is None:
                log("proxy_missing", conn=cid, head=c.buf[:40].decode("latin-1"))
                c.send("421 4.7.0 expected a PROXY header\r\n")
                return
            log("proxy", conn=cid, late=False, **p)
        self.delay(st, "greeting")
        greeting = st["greeting"] or ("220 %s ESMTP fake" % NAME)
        c.send(greeting + "\r\n")
        if not greeting.startswith("220"):
            time.sleep(0.05)
            return
        if not a.expect_proxy:
            # A header nobody asked for: record it, it is what "none" must avoid.
            while not c.buf:
                c.fill(300)
            if c.buf[:1] == b"\r" or c.buf.startswith(b"PROXY "):
                p = parse_proxy(c)
                if p:
                    log("proxy", conn=cid, late=True, **p)
        sender, rcpts, user = None, [], None
        while True:
            raw = c.line()
            line = raw.decode("latin-1").rstrip("\r\n")
            log("cmd", conn=cid, line=line)
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                self.delay(st, "ehlo")
                log("ehlo", conn=cid, name=arg, verb=verb)
                sender, rcpts = None, []
                c.send(self.ehlo_reply() if verb == "EHLO" else "250 %s\r\n" % NAME)
            elif verb == "XCLIENT" and a.xclient:
                attrs = {}
                for kv in arg.split():
                    k, _, v = kv.partition("=")
                    attrs[k.upper()] = xtext_decode(v)
                log("xclient", conn=cid, attrs=attrs)
                sender, rcpts = None, []
                c.send("220 %s ESMTP fake\r\n" % NAME)
            elif verb == "AUTH" and a.auth:
                self.delay(st, "auth")
                self.auth(c, cid, arg)
            elif verb == "MAIL":
                self.delay(st, "mail")
                m = re.match(r"FROM:\s*<([^>]*)>(.*)$", arg, re.I)
                if not m:
                    c.send("501 5.5.4 Syntax: MAIL FROM:<address>\r\n")
                    continue
                sender, rcpts = m.group(1), []
                log("mail", conn=cid, **{"from": sender, "params": m.group(2).strip()})
                c.send("250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                self.delay(st, "rcpt")
                m = re.match(r"TO:\s*<([^>]*)>", arg, re.I)
                if sender is None or not m:
                    c.send("503 5.5.1 Error: need MAIL command\r\n")
                    continue
                log("rcpt", conn=cid, to=m.group(1))
                if st["reject_rcpt"]:
                    c.send(st["reject_rcpt"] + "\r\n")
                    continue
                rcpts.append(m.group(1))
                c.send("250 2.1.5 Ok\r\n")
            elif verb == "DATA":
                self.delay(st, "data")
                if not rcpts:
                    c.send("503 5.5.1 Error: need RCPT command\r\n")
                    continue
                c.send("354 End data with <CR><LF>.<CR><LF>\r\n")
                if not self.data(c, cid, st, sender, rcpts):
                    return
                sender, rcpts = None, []
            elif verb == "BDAT":
                c.send("250 2.0.0 Ok\r\n")
            elif verb == "RSET":
                self.delay(st, "rset")
                sender, rcpts = None, []
                c.send("250 2.0.0 Ok\r\n")
            elif verb == "NOOP":
                c.send("250 2.0.0 Ok\r\n")
            elif verb == "VRFY":
                c.send("252 2.0.0 %s\r\n" % arg)
            elif verb in ("EXPN", "ETRN"):
                c.send("250 2.0.0 Ok\r\n")
            elif verb == "HELP":
                c.send("214 2.0.0 fake\r\n")
            elif verb == "QUIT":
                self.delay(st, "quit")
                c.send("221 2.0.0 Bye\r\n")
                return
            else:
                c.send("502 5.5.2 Error: command not recognized\r\n")

    def auth(self, c, cid, arg):
        a = self.a
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        want_user, _, want_pass = a.auth.partition(":")
        user = pw = None
        try:
            if mech == "PLAIN":
                resp = parts[1] if len(parts) > 1 else None
                if resp is None:
                    c.send("334 \r\n")
                    resp = c.line().decode("latin-1").strip()
                    log("cmd", conn=cid, line=resp)
                if resp == "*":
                    c.send("501 5.7.0 Authentication aborted\r\n")
                    return
                f = base64.b64decode(resp, validate=True).split(b"\0")
                if len(f) == 3:
                    user, pw = f[1].decode("latin-1"), f[2].decode("latin-1")
            elif mech == "LOGIN":
                if len(parts) > 1:
                    user = base64.b64decode(parts[1]).decode("latin-1")
                else:
                    c.send("334 VXNlcm5hbWU6\r\n")
                    r = c.line().decode("latin-1").strip()
                    log("cmd", conn=cid, line=r)
                    user = base64.b64decode(r).decode("latin-1")
                c.send("334 UGFzc3dvcmQ6\r\n")
                r = c.line().decode("latin-1").strip()
                log("cmd", conn=cid, line=r)
                pw = base64.b64decode(r).decode("latin-1")
            else:
                c.send("504 5.5.4 Unrecognized authentication type\r\n")
                return
        except ValueError:
            c.send("501 5.5.2 Cannot decode response\r\n")
            return
        ok = user == want_user and pw == want_pass
        log("auth", conn=cid, mech=mech, user=user, ok=ok)
        c.send("235 2.7.0 Authentication successful\r\n" if ok else
               "535 5.7.8 Error: authentication failed\r\n")

    def data(self, c, cid, st, sender, rcpts):
        """Read a message; False when the connection is to end."""
        if self.a.lenient_dot:
            end = re.compile(rb"(?:\r\n|\n|\r)\.(?:\r\n|\n|\r)")
        else:
            end = re.compile(rb"\r\n\.\r\n")
        body = b""
        while True:
            # "\r\n" in front: a message may end at once (an empty message).
            pre = b"\r\n" + body + c.buf
            m = end.search(pre)
            if m:
                dot = pre.index(b".", m.start())
                # The message keeps the line end in front of the dot.
                msg_bytes = pre[2:m.start()] + pre[m.start():dot] if m.start() >= 2 else b""
                c.buf = pre[m.end():]
                break
            if st["die_in_data"] and (body or c.buf):
                log("died", conn=cid, size=len(body) + len(c.buf))
                try:
                    c.s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return False
            body += c.buf
            c.buf = b""
            if st["read_delay_ms"]:
                time.sleep(st["read_delay_ms"] / 1000.0)
            try:
                c.fill(300)
            except Closed:
                log("aborted", conn=cid, size=len(body), data=body.decode("latin-1"))
                raise
        with self.lock:
            self.nmsg += 1
            qid = "FAKE%d" % self.nmsg
        text = msg_bytes.decode("latin-1")
        mid = re.search(r"(?im)^Message-ID:\s*(<[^>]*>)", text[:4096])
        log("message", conn=cid, queue_id=qid, size=len(msg_bytes),
            data=text if len(text) <= 262144 else text[:1024] + "...",
            sha256=hashlib.sha256(msg_bytes).hexdigest(),
            rcpts=rcpts, msgid=mid.group(1) if mid else None,
            bare_cr=len(re.findall(rb"\r(?!\n)", msg_bytes)),
            bare_lf=len(re.findall(rb"(?<!\r)\n", msg_bytes)),
            nul=msg_bytes.count(b"\0"), **{"from": sender})
        self.delay(st, "data_end")
        if st["data_end_reply"]:
            c.send(st["data_end_reply"] + "\r\n")
        else:
            c.send("250 2.0.0 Ok: queued as %s\r\n" % qid)
        if st["close_after_data"]:
            log("closing", conn=cid)
            return False
        return True


def serve(a):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(256)
    s = Server(a)
    sys.stdout.write("%d\n" % srv.getsockname()[1])
    sys.stdout.flush()
    while True:
        sock, peer = srv.accept()
        threading.Thread(target=s.handle, args=(sock, peer), daemon=True).start()


# ---- the load client ----

class Load:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.todo = ["%s-%d" % (a.tag, i) for i in range(a.messages)]
        self.inflight = 0
        self.acked = 0
        self.attempts = 0
        self.failures = 0
        self.deadline = time.time() + a.deadline

    def take(self):
        with self.lock:
            if self.todo:
                self.inflight += 1
                return self.todo.pop(0)
            return None

    def settle(self, mid, ok, stage="", reply=""):
        with self.lock:
            self.inflight -= 1
            self.attempts += 1
            if ok:
                self.acked += 1
            else:
                self.failures += 1
                self.todo.append(mid)
        if ok:
            log("ack", id=mid, reply=reply)
        else:
            log("fail", id=mid, stage=stage, reply=reply)

    def busy(self):
        with self.lock:
            return bool(self.todo) or self.inflight > 0

    @staticmethod
    def reply(f):
        text = ""
        while True:
            ln = f.readline()
            if not ln:
                raise Closed()
            ln = ln.decode("latin-1")
            text += ln
            if len(ln) < 4 or ln[3] != "-":
                return int(ln[:3]) if ln[:3].isdigit() else 0, text.strip()

    def worker(self, n):
        a = self.a
        while time.time() < self.deadline and self.busy():
            mid = None
            try:
                s = socket.create_connection(("127.0.0.1", a.port), timeout=15)
                f = s.makefile("rb")
                code, _ = self.reply(f)
                if code != 220:
                    raise Closed()
                s.sendall(b"EHLO load.test\r\n")
                code, _ = self.reply(f)
                if code != 250:
                    raise Closed()
                for _ in range(a.per_session):
                    mid = self.take()
                    if mid is None:
                        break
                    stage = "MAIL"
                    s.sendall(b"MAIL FROM:<load@example.net>\r\n")
                    code, text = self.reply(f)
                    if code == 250:
                        stage = "RCPT"
                        s.sendall(b"RCPT TO:<sink@example.org>\r\n")
                        code, text = self.reply(f)
                    if code == 250:
                        stage = "DATA"
                        s.sendall(b"DATA\r\n")
                        code, text = self.reply(f)
                    if code == 354:
                        stage = "END"
                        body = ("From: load@example.net\r\nTo: sink@example.org\r\n"
                                "Subject: load %s\r\nMessage-ID: <%s@load.test>\r\n"
                                "X-Load-Id: %s\r\n\r\n" % (mid, mid, mid))
                        body += "".join("line %d of the message %s\r\n" % (k, mid)
                                        for k in range(a.lines))
                        s.sendall(body.encode() + b".\r\n")
                        code, text = self.reply(f)
                    self.settle(mid, code == 250 and stage == "END", stage, text)
                    mid = None
                    if code // 100 != 2 and stage != "END" or code == 421:
                        s.sendall(b"RSET\r\n")
                        code, _ = self.reply(f)
                        if code != 250:
                            raise Closed()
                s.sendall(b"QUIT\r\n")
                try:
                    self.reply(f)
                except Closed:
                    pass
                s.close()
            except (Closed, OSError, ValueError) as e:
                if mid is not None:
                    self.settle(mid, False, "connection", repr(e))
                time.sleep(0.05)

    def run(self):
        ts = [threading.Thread(target=self.worker, args=(i,), daemon=True)
              for i in range(self.a.sessions)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        done = dict(acked=self.acked, attempts=self.attempts, failures=self.failures,
                    total=self.a.messages)
        log("done", **done)
        print(json.dumps(done))
        sys.stdout.flush()


def main():
    global log_file
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--log", required=True)
    s.add_argument("--control")
    s.add_argument("--xclient", action="store_true")
    s.add_argument("--auth", default="")
    s.add_argument("--chunking", action="store_true")
    s.add_argument("--dsn", action="store_true")
    s.add_argument("--smtputf8", action="store_true")
    s.add_argument("--expect-proxy", action="store_true")
    s.add_argument("--lenient-dot", action="store_true")
    s.add_argument("--reject-rcpt", default="")
    s.add_argument("--delay", action="append", default=[])
    ld = sub.add_parser("load")
    ld.add_argument("--port", type=int, required=True)
    ld.add_argument("--sessions", type=int, default=4)
    ld.add_argument("--messages", type=int, default=100)
    ld.add_argument("--per-session", type=int, default=5)
    ld.add_argument("--lines", type=int, default=20)
    ld.add_argument("--tag", default="m")
    ld.add_argument("--deadline", type=float, default=60)
    ld.add_argument("--log", required=True)
    a = p.parse_args()
    log_file = open(a.log, "a")
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if a.mode == "serve":
        die_with_stdin()
        a.delays = {}
        for d in a.delay:
            k, _, v = d.partition("=")
            a.delays[k] = int(v)
        serve(a)
    else:
        Load(a).run()


if __name__ == "__main__":
    main()
