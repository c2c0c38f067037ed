"""Shared helpers for the POP3 tests (test_pop3_*.py).

Server() is a store (tests/lib/mvtest.py: init --kdf min in its own
folder under $TESTDIR) with the test corpus imported into the account
"demo" (--format eml, so the stored bytes are the files' bytes in CRLF
wire form: stored_form()), served by `mailvault serve` with IMAP, POP3
and POP3S on free loopback ports; the password and certificate come from
`credentials`, and stop() checks the server exits cleanly and never
logged the password. Raw is a line-level POP3 client for what poplib
cannot say (pipelining, bad syntax, dropping a connection mid-session).
The tests run on tests/lib/runner.py, re-exported here.
"""
import hashlib
import os
import poplib
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

AUTH_DELAY_MS = 100


def stored_form(path):
    """A message file's bytes as the store keeps them: `import --format
    eml` brings lone LF line ends to CRLF (a CRLF or a lone CR stays)."""
    with open(path, "rb") as f:
        return re.sub(rb"(?<!\r)\n", b"\r\n", f.read())


def corpus_files():
    """The corpus messages (paths), sorted: INBOX order after import."""
    return [os.path.join(CORPUS, f) for f in sorted(os.listdir(CORPUS))
            if f.endswith(".eml")]


def eml_folder():
    """The corpus messages alone (the corpus folder also holds notes)."""
    path = os.path.join(TMP, "corpus-eml")
    if not os.path.isdir(path):
        os.makedirs(path)
        for f in corpus_files():
            shutil.copy(f, path)
    return path


class Server(Store):
    """A store with the corpus, served by `mailvault serve`."""
    count = 0

    def __init__(self, corpus=True, env=None, name=None, files=None,
                 extra_args=()):
        Server.count += 1
        Store.__init__(self, name or "pop%d" % Server.count,
                       passphrase="pop3 test passphrase",
                       env=dict({"MAILVAULT_AUTH_DELAY_MS":
                                 str(AUTH_DELAY_MS)}, **(env or {})))
        if files is not None:
            for f in files:
                self.mv("import", "demo", f, "--format", "eml", "--quiet")
        elif corpus:
            self.mv("import", "demo", eml_folder(), "--format", "eml",
                    "--quiet")
        self.user = "demo"
        self.imap_port = free_port()
        self.port = free_port()
        self.sport = free_port()
        self.serve(imap=self.imap_port, pop3=self.port, pop3s=self.sport,
                   extra_args=extra_args)
        self.cert_pem = self.mv("credentials", "--cert").stdout
        self.cert_file = os.path.join(self.dir, "cert.pem")
        with open(self.cert_file, "w") as f:
            f.write(self.cert_pem)

    def md5_fingerprint(self):
        """The certificate's MD5 fingerprint as fetchmail shows it."""
        der = ssl.PEM_cert_to_DER_cert(self.cert_pem)
        h = hashlib.md5(der).hexdigest().upper()
        return ":".join(h[i:i + 2] for i in range(0, len(h), 2))

    def ssl_context(self):
        ctx = ssl.create_default_context(cadata=self.cert_pem)
        ctx.check_hostname = False  # the certificate names localhost
        return ctx

    def pop(self, login=True):
        p = poplib.POP3("127.0.0.1", self.port, timeout=30)
        if login:
            p.user(self.user)
            p.pass_(self.password)
        return p

    def pop_ssl(self, login=True):
        p = poplib.POP3_SSL("127.0.0.1", self.sport,
                            context=self.ssl_context(), timeout=30)
        if login:
            p.user(self.user)
            p.pass_(self.password)
        return p

    def raw(self, login=True, port=None):
        r = Raw(port or self.port)
        if login:
            r.ok("USER %s" % self.user)
            r.ok("PASS %s" % self.password)
        return r


class Raw:
    """A line-level POP3 client."""

    def __init__(self, port, sock=None):
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def rawline(self):
        """The next line with its line end, as bytes."""
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed; buffered %r" % self.buf[:200])
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def line(self):
        return self.rawline().rstrip(b"\r\n").decode("latin-1")

    def multi(self):
        """A multi-line body as sent (still dot-stuffed), without ".\\r\\n"."""
        out = []
        while True:
            l = self.rawline()
            if l == b".\r\n":
                return b"".join(out)
            out.append(l)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def ok(self, text):
        r = self.cmd(text)
        assert r.startswith("+OK"), "%s -> %s" % (text.split(" ")[0], r)
        return r

    def err(self, text, prefix="-ERR"):
        r = self.cmd(text)
        assert r.startswith(prefix), "%s -> %s, wanted %s" % (text.split(" ")[0], r, prefix)
        return r

    def eof(self):
        try:
            d = self.sock.recv(1)
        except OSError:
            return True
        return d == b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def unstuff(data):
    """Undo POP3 byte-stuffing of a multi-line body."""
    out = []
    for line in data.split(b"\n"):
        out.append(line[1:] if line.startswith(b".") else line)
    return b"\n".join(out)


def timestamp_of(greeting):
    m = re.search(r"<[^>]*>", greeting)
    assert m, greeting
    return m.group(0)
