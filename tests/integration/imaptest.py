"""Shared helpers for the IMAP scenario tests (test_imap_*.py).

Server() is a store (tests/lib/mvtest.py: init --kdf min in its own
folder under $TESTDIR) with the test corpus imported into the account
"demo" (--format eml), served by `mailvault serve` on two free loopback
ports (IMAP and IMAPS); its password comes from `credentials --json`, and
stop() checks the server exits cleanly and never logged the password. Raw
is a line-level client for what imaplib cannot say (pipelining, literals,
bad syntax). The tests run on tests/lib/runner.py, re-exported here.
"""
import imaplib
import os
import re
import shutil
import socket
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import (CORPUS, SANITIZED, TESTDIR as TMP,  # noqa: E402,F401
                    TOP, Store, free_port)
from runner import expect, run_tests, skip  # noqa: E402,F401 - re-exported

NCORPUS = len([f for f in os.listdir(CORPUS) if f.endswith(".eml")])


def eml_folder():
    """The corpus messages alone (the corpus folder also holds notes)."""
    path = os.path.join(TMP, "corpus-eml")
    if not os.path.isdir(path):
        os.makedirs(path)
        for f in sorted(os.listdir(CORPUS)):
            if f.endswith(".eml"):
                shutil.copy(os.path.join(CORPUS, f), os.path.join(path, f))
    return path


class Server(Store):
    """A store with the corpus, served by `mailvault serve`."""
    count = 0

    def __init__(self, corpus=True, env=None, name=None):
        Server.count += 1
        Store.__init__(self, name or "srv%d" % Server.count,
                       passphrase="imap test passphrase",
                       env=dict({"MAILVAULT_AUTH_DELAY_MS": "100"},
                                **(env or {})))
        if corpus:
            self.mv("import", "demo", eml_folder(), "--format", "eml",
                    "--quiet")
        else:
            self.mv("import", "demo", os.path.join(
                CORPUS, "01-plain-ascii.eml"), "--format", "eml", "--quiet")
        self.user = "demo"
        self.port = free_port()
        self.sport = free_port()
        self.serve(imap=self.port, imaps=self.sport)

    def connect(self, login=True):
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        if login:
            c.login(self.user, self.password)
        return c

    def ssl_context(self):
        cert = self.mv("credentials", "--cert").stdout
        return ssl.create_default_context(cadata=cert)

    def connect_ssl(self, login=True):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.sport,
                              ssl_context=self.ssl_context(), timeout=30)
        if login:
            c.login(self.user, self.password)
        return c

    def raw(self, login=True):
        r = Raw(self.port)
        if login:
            r.ok("LOGIN %s %s" % (self.user, self.password))
        return r


class Raw:
    """A line-level IMAP client: send a command, read up to its tagged reply."""

    def __init__(self, port, sock=None):
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed; buffered %r" % self.buf[:200])
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", line)
        if m:  # a literal: take its bytes and the rest of the line
            n = int(m.group(1))
            while len(self.buf) < n:
                d = self.sock.recv(65536)
                if not d:
                    raise EOFError("connection closed in a literal")
                self.buf += d
            lit, self.buf = self.buf[:n], self.buf[n:]
            return (line + b"\r\n" + lit + self.line().encode("latin-1")).decode("latin-1")
        return line.decode("latin-1")

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def cmd(self, text, tag=None):
        """Send one command; return (untagged lines, tagged line)."""
        tag = tag or self.tag()
        self.send("%s %s\r\n" % (tag, text))
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            if l.startswith(tag + " "):
                return lines, l
            lines.append(l)

    def ok(self, text):
        lines, t = self.cmd(text)
        assert status(t) == "OK", "%s -> %s" % (text, t)
        return lines

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def status(tagged):
    return tagged.split(" ")[1]
