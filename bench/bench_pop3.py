"""POP3 speed against Dovecot's POP3 server (issue 4).

The same generated mbox (BENCH_POP3_MESSAGES, default 10,000) is imported by
`mailvault import` into a fresh store served by `mailvault serve`, and by
`doveadm import` into a private Dovecot with POP3 and POP3S. Then, against
each server, in one run:

- LIST+UIDL: after login, LIST and UIDL of the whole maildrop, best of 5;
- RETR of every message, pipelined (a writer thread sends the commands, the
  reader counts terminators), plain text and over TLS (POP3S), best of 3.

Goals: LIST+UIDL <= 0.5x Dovecot's time, RETR <= 1.0x. Every ratio is
printed; a benchmark fails only when something broke.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
from dovecot import Dovecot, free_port  # noqa: E402

mv = os.environ["MAILVAULT"]
n = int(os.environ.get("BENCH_POP3_MESSAGES", "10000"))
gen = [sys.executable, os.path.join(top, "scripts", "gen-corpus.py")]
work = tempfile.mkdtemp(prefix="mailvault-bench-pop3.")
env = dict(os.environ, MAILVAULT_STORE=work + "/store/store.db",
           MAILVAULT_PASSPHRASE_FILE=work + "/pass")
open(work + "/pass", "w").write("bench\n")


class Client:
    """A minimal POP3 client that reads in big pieces."""

    def __init__(self, port, tls_ctx=None):
        s = socket.create_connection(("127.0.0.1", port), timeout=120)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ctx is not None:
            s = tls_ctx.wrap_socket(s, server_hostname="localhost")
        self.s = s
        self.buf = b""
        self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError(self.buf[:200])
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\r\n")
        l = self.line()
        assert l.startswith(b"+OK"), (c, l)
        return l

    def multi(self):
        while b"\r\n.\r\n" not in self.buf and not self.buf.startswith(b".\r\n"):
            self.buf += self.s.recv(1 << 20)
        if self.buf.startswith(b".\r\n"):
            body, self.buf = b"", self.buf[3:]
        else:
            body, self.buf = self.buf.split(b"\r\n.\r\n", 1)
        return body

    def login(self, user, password):
        self.cmd("USER " + user)
        self.cmd("PASS " + password)

    def retr_all(self, count):
        """RETR 1..count pipelined; returns the bytes received."""
        def writer():
            batch = []
            for i in range(1, count + 1):
                batch.append(b"RETR %d\r\n" % i)
                if len(batch) == 200:
                    self.s.sendall(b"".join(batch))
                    batch = []
            if batch:
                self.s.sendall(b"".join(batch))
        t = threading.Thread(target=writer)
        t.start()
        # "\r\n.\r\n" ends each response: a body line "." is sent as "..".
        # Reads go into one buffer (no copy per read), which keeps the
        # last 4 bytes of the previous read in front so that a terminator
        # cut by a read boundary is counted once.
        buf = bytearray(4 + (1 << 20))
        view = memoryview(buf)
        seen = self.buf.count(b"\r\n.\r\n")
        total = len(self.buf)
        tail = self.buf[-4:]
        start = 4 - len(tail)
        buf[start:4] = tail
        while seen < count:
            n = self.s.recv_into(view[4:])
            if not n:
                raise EOFError("connection closed after %d messages" % seen)
            total += n
            seen += buf.count(b"\r\n.\r\n", start, 4 + n)
            if n >= 4:
                buf[0:4] = buf[n:n + 4]
                start = 0
            else:
                # a tiny read: keep the last 4 bytes seen
                keep = bytes(buf[start:4 + n])[-4:]
                start = 4 - len(keep)
                buf[start:4] = keep
        t.join()
        self.buf = b""
        return total

    def quit(self):
        self.cmd("QUIT")
        self.s.close()


def list_uidl(port, user, password):
    c = Client(port)
    c.login(user, password)
    best = None
    for _ in range(5):
        t0 = time.perf_counter()
        c.cmd("LIST")
        c.multi()
        c.cmd("UIDL")
        c.multi()
        t = time.perf_counter() - t0
        best = t if best is None else min(best, t)
    c.quit()
    return best


def retr(port, user, password, ctx=None):
    c = Client(port, ctx)
    c.login(user, password)
    count = int(c.cmd("STAT").split()[1])
    t0 = time.perf_counter()
    nbytes = c.retr_all(count)
    t = time.perf_counter() - t0
    c.quit()
    return t, nbytes


def wait_port(port, proc=None):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("mailvault serve exited")
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


serve = None
dv = None
try:
    mbox = work + "/in.mbox"
    subprocess.run(gen + ["mbox", str(n), mbox, "--seed", "4"], check=True)
    print("corpus: %d messages, %.1f MB mbox" % (n, os.path.getsize(mbox) / 1e6))

    subprocess.run([mv, "init", "--kdf", "min", "--quiet"], env=env, check=True)
    subprocess.run([mv, "import", "bench", mbox, "--mailbox", "INBOX", "--quiet"], env=env, check=True)
    ports = [free_port() for _ in range(3)]
    serve = subprocess.Popen([mv, "serve", "--imap-port", str(ports[0]),
                              "--imaps-port", "0", "--pop3-port", str(ports[1]),
                              "--pop3s-port", str(ports[2])],
                             env=env, stdout=subprocess.DEVNULL,
                             stderr=open(work + "/serve.log", "w"))
    wait_port(ports[1], serve)
    creds = json.loads(subprocess.run([mv, "credentials", "--json"], env=env,
                                      capture_output=True, check=True).stdout)
    mv_pass = creds["password"]
    cert = subprocess.run([mv, "credentials", "--cert"], env=env,
                          capture_output=True, text=True, check=True).stdout
    mv_ctx = ssl.create_default_context(cadata=cert)
    mv_ctx.check_hostname = False

    # Dovecot, with a certificate of its own for POP3S.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", work + "/dv.key",
                    "-out", work + "/dv.crt"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dv = Dovecot(work + "/dovecot", pop3_port=free_port(), pop3s_port=free_port(),
                 cert=work + "/dv.crt", key=work + "/dv.key").start()
    src = work + "/dovecot/src"
    os.makedirs(src)
    shutil.copy(mbox, src + "/INBOX")
    dv.chown_tree(src)
    dv.doveadm("import", "-u", "bench", "-s", "mbox:%s:INBOX=%s/INBOX" % (src, src),
               "", "all")
    dv_ctx = ssl.create_default_context(cafile=work + "/dv.crt")
    dv_ctx.check_hostname = False
    # Warm both (Dovecot builds its index and UIDL cache on first use).
    list_uidl(dv.pop3_port, "bench", dv.password)
    list_uidl(ports[1], "bench", mv_pass)

    t_mv = list_uidl(ports[1], "bench", mv_pass)
    t_dv = list_uidl(dv.pop3_port, "bench", dv.password)
    print("LIST+UIDL of %d messages: mailvault %.1f ms, Dovecot %.1f ms: "
          "ratio %.2fx (goal <= 0.5x)" % (n, t_mv * 1e3, t_dv * 1e3, t_mv / t_dv))

    for label, mv_args, dv_args in (
            ("plain text", (ports[1], "bench", mv_pass),
             (dv.pop3_port, "bench", dv.password)),
            ("TLS", (ports[2], "bench", mv_pass, mv_ctx),
             (dv.pop3s_port, "bench", dv.password, dv_ctx))):
        retr(*dv_args)  # warm the page cache and Dovecot's index
        retr(*mv_args)
        # Best of three, alternating, so a busy moment hits both alike.
        tm = td = None
        for _ in range(3):
            t, bm = retr(*mv_args)
            tm = t if tm is None else min(tm, t)
            t, bd = retr(*dv_args)
            td = t if td is None else min(td, t)
        print("RETR of all, %s: mailvault %.2f s (%.0f MB/s), Dovecot %.2f s "
              "(%.0f MB/s): ratio %.2fx (goal <= 1.0x)"
              % (label, tm, bm / tm / 1e6, td, bd / td / 1e6, tm / td))
finally:
    if serve is not None:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=20)
        except subprocess.TimeoutExpired:
            serve.kill()
    if dv is not None:
        dv.stop()
    shutil.rmtree(work, ignore_errors=True)
