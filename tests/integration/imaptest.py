"""Shared helpers for the IMAP scenario tests (test_imap_*.py).

Server() makes a store in $TESTDIR (init --kdf min), imports the test
corpus into the account "demo" (--format eml), starts `mailvault serve` on
two free loopback ports and reads the password from `credentials --json`;
stop() sends SIGTERM and checks the server exits cleanly and never logged
the password. Raw is a line-level client for what imaplib cannot say
(pipelining, literals, bad syntax). run_tests() runs the test functions of
a module and prints "N passed, M failed"; the exit status says the same.
"""
import imaplib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from runner import run_tests  # noqa: E402,F401 - re-exported for tests

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, "tests", "corpus")
MV = os.environ["MAILVAULT"]
TMP = os.environ.get("TESTDIR") or os.getcwd()
SANITIZED = bool(os.environ.get("MAILVAULT_SANITIZED"))
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A store with the corpus, served by `mailvault serve`."""
    count = 0

    def __init__(self, corpus=True, env=None, name=None):
        Server.count += 1
        self.dir = os.path.join(TMP, name or "srv%d" % Server.count)
        os.makedirs(self.dir, exist_ok=True)
        self.env = dict(os.environ,
                        MAILVAULT_STORE=os.path.join(self.dir, "store", "store.db"),
                        MAILVAULT_PASSPHRASE_FILE=os.path.join(self.dir, "pass"),
                        MAILVAULT_AUTH_DELAY_MS="100")
        self.env.update(env or {})
        with open(self.env["MAILVAULT_PASSPHRASE_FILE"], "w") as f:
            f.write("imap test passphrase\n")
        self.mv("init", "--kdf", "min", "--quiet")
        if corpus:
            self.mv("import", "demo", eml_folder(), "--format", "eml", "--quiet")
        else:
            self.mv("import", "demo", os.path.join(CORPUS, "01-plain-ascii.eml"),
                    "--format", "eml", "--quiet")
        self.port = free_port()
        self.sport = free_port()
        self.log = open(os.path.join(self.dir, "serve.log"), "w+")
        self.proc = subprocess.Popen(
            [MV, "serve", "--imap-port", str(self.port), "--imaps-port", str(self.sport),
             "--pop3-port", "0", "--pop3s-port", "0"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("serve did not start: " + self.logtext())
                time.sleep(0.05)
        creds = json.loads(self.mv("credentials", "--json"))
        self.user = "demo"
        self.password = creds["password"]
        self.fingerprint = creds["fingerprint"]

    def mv(self, *args, check=True):
        p = subprocess.run([MV, *args], env=self.env, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError("mailvault %s failed: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def logtext(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def connect(self, login=True):
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        if login:
            c.login(self.user, self.password)
        return c

    def ssl_context(self):
        ctx = ssl.create_default_context(cadata=self.mv("credentials", "--cert"))
        return ctx

    def connect_ssl(self, login=True):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.sport, ssl_context=self.ssl_context(),
                              timeout=30)
        if login:
            c.login(self.user, self.password)
        return c

    def raw(self, login=True):
        r = Raw(self.port)
        if login:
            r.ok("LOGIN %s %s" % (self.user, self.password))
        return r

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise AssertionError("serve did not stop on SIGTERM")
        text = self.logtext()
        assert self.proc.returncode == 0, "serve exited %s: %s" % (self.proc.returncode, text[-2000:])
        assert self.password not in text, "the password appears in the server log"
        self.log.close()
        return text


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
