"""IMAP server speed against Dovecot (issue 3).

One generated mbox (BENCH_IMAP_MESSAGES, default 100000) goes into a fresh
mailvault store (`mailvault import`) and into a private Dovecot
(`doveadm import`, Maildir); both serve it on loopback. Each operation is
run once on each server to warm it (Dovecot builds its index), then timed:
SELECT; UID FETCH 1:* (UID FLAGS); FETCH 1:* (ENVELOPE INTERNALDATE
RFC822.SIZE); UID SEARCH FROM x; UID SEARCH TEXT word; FETCH 1:N BODY.PEEK[]
over the first 10,000 messages (MB/s, plaintext and TLS); and a mixed load
of 10 client processes each looping LOGIN, SELECT, FETCH, STORE, APPEND,
UID STORE \\Deleted, UID EXPUNGE, LOGOUT for BENCH_IMAP_SECONDS (default
30) on a 216-message mailbox "Load" (commands per second, and protocol
errors: any NO or BAD but a FETCH's NO [EXPUNGEISSUED], which must be
none). Prints each ratio mailvault/Dovecot (time; for rates, Dovecot's
rate over mailvault's) with its goal: at most 1.0x, and 0.5x for the
metadata commands; a goal not met is marked MISSED. Dovecot runs in its
"high-performance" login mode (see DOVECOT_TUNING). A benchmark, never a
test: it fails only if it could not run (a command of the timed part
failing, a server not starting).
"""
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
from dovecot import Dovecot, free_port  # noqa: E402
from testca import TestCA  # noqa: E402

mv = os.environ["MAILVAULT"]
N = int(os.environ.get("BENCH_IMAP_MESSAGES", "100000"))
NBODY = min(N, int(os.environ.get("BENCH_IMAP_BODIES", "10000")))
SECONDS = float(os.environ.get("BENCH_IMAP_SECONDS", "30"))
CLIENTS = int(os.environ.get("BENCH_IMAP_CLIENTS", "10"))
REPEAT = int(os.environ.get("BENCH_IMAP_REPEAT", "3"))
FROM_NAME = "zoltan"      # a first name of scripts/gen-corpus.py
TEXT_WORD = "saffron"     # a body word of scripts/gen-corpus.py
gen = [sys.executable, os.path.join(top, "scripts", "gen-corpus.py")]
work = tempfile.mkdtemp(prefix="mailvault-bench-imap.")
env = dict(os.environ, MAILVAULT_STORE=work + "/store/store.db",
           MAILVAULT_PASSPHRASE_FILE=work + "/pass")
with open(work + "/pass", "w") as f:
    f.write("bench\n")


# Dovecot's "high-performance" login mode (login processes kept and reused,
# imap processes waiting): its default forks a new process per connection,
# which would make the mixed load measure process start-up.
DOVECOT_TUNING = """
mail_max_userip_connections = 100
service imap-login {
  service_count = 0
  process_min_avail = 2
}
service imap {
  process_min_avail = 4
}
"""


class ProtocolError(Exception):
    pass


def _find(buf, needle, start, end):
    """buf.find(needle, start, end) for a needle whose first byte is rare
    in IMAP answers ("}" of a literal, "~" of our tags): CPython finds one
    byte with memchr, several times faster than its search for a longer
    needle."""
    first = needle[0]
    while True:
        i = buf.find(first, start, end)
        if i < 0 or buf.startswith(needle, i, end):
            return i
        start = i + 1


def _find_tag(buf, tag, start, end):
    """The first tag at or after start that follows a "\n"."""
    while True:
        i = _find(buf, tag, start, end)
        if i < 0 or buf[i - 1] == 10:
            return i
        start = i + 1


class Conn:
    """A minimal IMAP client that reads answers without keeping literals
    (so a client reading 150 MB does not measure Python's copying).

    The client must cost far less than either server, or both sides' times
    flatten towards its own: an answer is scanned with bytes.find for the
    two things that matter, a literal's announcement ("{n}" at a line end,
    whose n bytes are skipped exactly, whatever they hold) and the tagged
    line (the tag at a line start), never line by line in Python. Tags
    start with "~", which answers hardly ever hold, so finding a tag is
    finding a rare byte (correct whatever the answer holds, only slower if
    it is full of them). The read buffer keeps HEAD spare bytes in front
    of the data, so a match cut by a read boundary is found after carrying
    the last bytes over, and a line start can be marked with a "\n" just
    before it. Answers kept line by line (keep=True) are small: they go
    the simple way."""

    HEAD = 64       # room in front of the data (carry, line-start mark)
    LITMAX = 24     # "{" + 20 digits + "}" fits in what is carried

    def __init__(self, port, tls=None):
        s = socket.create_connection(("127.0.0.1", port), timeout=600)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            s = tls.wrap_socket(s, server_hostname="localhost")
        self.sock = s
        self.rbuf = bytearray(self.HEAD + (1 << 20))
        self.view = memoryview(self.rbuf)
        self.pos = self.end = self.HEAD
        self.n = 0
        self.bytes = 0
        self.answer(None)

    def _fill(self, carry_from=None):
        """Read more after the buffered bytes are used, keeping those from
        carry_from on (a few) in front; returns the new position of
        carry_from (or of the data)."""
        head = self.HEAD
        keep = 0 if carry_from is None else self.end - carry_from
        if keep:
            self.rbuf[head - keep:head] = self.rbuf[carry_from:self.end]
        n = self.sock.recv_into(self.view[head:])
        if n == 0:
            raise ProtocolError("connection closed")
        self.bytes += n
        self.end = head + n
        return head - keep

    def answer(self, tag, keep=False):
        """Read up to the tagged line (or the greeting when tag is None);
        return (tagged line, untagged lines if keep). Literals are counted
        and skipped, never copied."""
        if tag is None or keep:
            return self._answer_lines(tag, keep)
        buf = self.rbuf
        carry = max(len(tag) + 1, self.LITMAX)
        pos = self.pos
        at_start = True         # pos is at a line start
        while True:
            end = self.end
            if at_start:
                buf[pos - 1] = 10       # consumed already: mark the start
            i = _find_tag(buf, tag, pos if at_start else pos + 1, end)
            # An announcement just before i ("{5}\r\n" and a literal that
            # starts like the tagged line) comes first.
            j = _find(buf, b"}\r\n", pos, i if i >= 0 else end)
            if j >= 0:
                k = buf.rfind(b"{", max(pos, j - self.LITMAX), j)
                pos = j + 3
                if k < 0 or not buf[k + 1:j].isdigit():
                    at_start = True     # a line that ends in "}"
                    continue
                skip = int(buf[k + 1:j])
                while pos + skip > self.end:
                    skip -= self.end - pos
                    pos = self._fill()
                pos += skip
                at_start = False        # the line goes on after it
                continue
            if i >= 0:
                return self._tagged(i), []
            # Nothing yet: read more, carrying what may start a match (a
            # tag or "{n}" cut by the read boundary).
            cf = max(pos - 1 if at_start else pos, end - carry)
            base = self._fill(cf)
            if pos > cf:
                pos = base + (pos - cf)
            else:
                # what came before was looked at: pos is no line start,
                # but a "\n" at pos may still precede a tag
                pos, at_start = base, False

    def _tagged(self, start):
        """The tagged line starting at start, read to its end."""
        buf = self.rbuf
        e = buf.find(b"\n", start, self.end)
        if e >= 0:
            self.pos = e + 1
            return bytes(buf[start:e + 1])
        line = bytearray(buf[start:self.end])
        while True:
            self.pos = self._fill()
            e = buf.find(b"\n", self.pos, self.end)
            if e >= 0:
                line += buf[self.pos:e + 1]
                self.pos = e + 1
                return bytes(line)
            line += buf[self.pos:self.end]

    def _answer_lines(self, tag, keep):
        """The same line by line, keeping untagged lines (small answers)."""
        lines = []
        line = bytearray()
        buf = self.rbuf
        pos = self.pos
        skip = 0
        while True:
            if pos >= self.end:
                pos = self._fill()
            end = self.end
            if skip:
                take = min(skip, end - pos)
                skip -= take
                pos += take
                continue
            i = buf.find(b"\n", pos, end)
            if i < 0:
                line += buf[pos:end]
                pos = end
                continue
            line += buf[pos:i + 1]
            pos = i + 1
            text = bytes(line)
            line = bytearray()
            k = text.rfind(b"{")
            if text.endswith(b"}\r\n") and k >= 0 and text[k + 1:-3].isdigit():
                skip = int(text[k + 1:-3])
                if keep:
                    lines.append(text)
                continue
            if tag is None or text.startswith(tag):
                self.pos = pos
                return text, lines
            if keep:
                lines.append(text)

    def cmd(self, text, keep=False, ok=True):
        self.n += 1
        tag = b"~%d " % self.n
        self.sock.sendall(tag + text.encode() + b"\r\n")
        tagged, lines = self.answer(tag, keep)
        if ok and not tagged.startswith(tag + b"OK"):
            raise ProtocolError("%s -> %r" % (text, tagged[:200]))
        return tagged, lines

    def append(self, box, msg, flags=""):
        self.n += 1
        tag = b"~%d " % self.n
        self.sock.sendall(tag + ("APPEND %s (%s) {%d+}\r\n" % (box, flags, len(msg))).encode()
                          + msg + b"\r\n")
        tagged, _ = self.answer(tag)
        if not tagged.startswith(tag + b"OK"):
            raise ProtocolError("APPEND -> %r" % tagged[:200])
        return tagged

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Side:
    def __init__(self, name, port, sport, user, password, ctx):
        self.name, self.port, self.sport = name, port, sport
        self.user, self.password, self.ctx = user, password, ctx

    def connect(self, tls=False, select=None):
        c = Conn(self.sport if tls else self.port, self.ctx if tls else None)
        c.cmd('LOGIN "%s" "%s"' % (self.user, self.password))
        if select:
            c.cmd("EXAMINE " + select)
        return c


def timed(side, command, select="INBOX", tls=False):
    """Best of REPEAT runs of one command on a fresh connection; returns
    (seconds, bytes read)."""
    best, nbytes = None, 0
    for _ in range(REPEAT):
        c = side.connect(tls, select)
        before = c.bytes
        t0 = time.perf_counter()
        c.cmd(command)
        t = time.perf_counter() - t0
        nbytes = c.bytes - before
        c.close()
        best = t if best is None else min(best, t)
    return best, nbytes


# --- the mixed load ---------------------------------------------------------

LOAD_MSG = (b"From: Load Tester <load@example.org>\r\nTo: bench@example.org\r\n"
            b"Subject: mixed load message\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            b"Message-ID: <load@example.org>\r\n\r\n" + b"A line of text.\r\n" * 40)


def load_worker(args):
    """One client's loop; returns (commands, errors, first error, races).
    A FETCH answered NO [EXPUNGEISSUED] is a race RFC 5530 allows (another
    client expunged its message since our SELECT), not an error."""
    port, user, password, box, seconds, seed = args
    rng = random.Random(seed)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    commands = errors = races = 0
    first = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            c = Conn(port)
            c.cmd('LOGIN "%s" "%s"' % (user, password))
            _, lines = c.cmd("SELECT " + box, keep=True)
            exists = 0
            for l in lines:
                if l.endswith(b" EXISTS\r\n"):
                    exists = int(l.split()[1])
            lo = rng.randint(1, max(1, exists - 10))
            c.cmd("FETCH %d:%d (UID FLAGS ENVELOPE BODY.PEEK[HEADER])" % (lo, lo + 9))
            c.cmd("STORE %d +FLAGS (\\Seen)" % rng.randint(1, exists))
            tagged = c.append(box, LOAD_MSG)
            uid = int(tagged.split(b"APPENDUID ", 1)[1].split()[1].rstrip(b"]"))
            c.cmd("UID STORE %d +FLAGS.SILENT (\\Deleted)" % uid)
            c.cmd("UID EXPUNGE %d" % uid)
            c.cmd("LOGOUT")
            c.close()
            commands += 8
        except ProtocolError as e:
            if "[EXPUNGEISSUED]" in str(e):
                races += 1
            else:
                errors += 1
                first = first or str(e)
        except (OSError, ValueError, IndexError) as e:
            errors += 1
            first = first or repr(e)
    return commands, errors, first, races


def mixed_load(side, box):
    args = [(side.port, side.user, side.password, box, SECONDS, i) for i in range(CLIENTS)]
    with multiprocessing.Pool(CLIENTS) as pool:
        t0 = time.monotonic()
        res = pool.map(load_worker, args)
        took = time.monotonic() - t0
    commands = sum(r[0] for r in res)
    errors = sum(r[1] for r in res)
    first = next((r[2] for r in res if r[2]), None)
    return commands / took, errors, first, sum(r[3] for r in res)


def fill_load_box(side, box):
    c = side.connect()
    c.cmd("CREATE " + box, ok=False)
    corpus = os.path.join(top, "tests", "corpus")
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".eml"))
    for k in range(4):
        for f in files:
            with open(os.path.join(corpus, f), "rb") as fh:
                data = fh.read().replace(b"\0", b" ")
            c.append(box, data)
    c.close()


# --- setup ------------------------------------------------------------------

def wait_port(port, proc=None):
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("mailvault serve exited")
            time.sleep(0.1)
    raise RuntimeError("nothing listens on %d" % port)


def main():
    mbox = work + "/in.mbox"
    t0 = time.monotonic()
    subprocess.run(gen + ["mbox", str(N), mbox, "--seed", "1"], check=True)
    print("corpus: %d messages, %.1f MB mbox (made in %.0f s)"
          % (N, os.path.getsize(mbox) / 1e6, time.monotonic() - t0))
    sys.stdout.flush()

    subprocess.run([mv, "init", "--kdf", "min", "--quiet"], env=env, check=True)
    t0 = time.monotonic()
    subprocess.run([mv, "import", "bench", mbox, "--mailbox", "INBOX", "--quiet"], env=env, check=True)
    print("mailvault import: %.0f s" % (time.monotonic() - t0))
    port, sport = free_port(), free_port()
    log = open(work + "/serve.log", "w")
    # POP3 off: its default ports may be taken by another serve.
    proc = subprocess.Popen([mv, "serve", "--imap-port", str(port), "--imaps-port",
                             str(sport), "--pop3-port", "0", "--pop3s-port", "0"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    ca = TestCA(work + "/ca")
    cert, key = ca.server("localhost")
    dv = Dovecot(work + "/dovecot", imaps_port=free_port(), cert=cert, key=key,
                 extra_conf=DOVECOT_TUNING)
    try:
        wait_port(port, proc)
        creds = json.loads(subprocess.run([mv, "credentials", "--json"], env=env,
                                          capture_output=True, check=True).stdout)
        mv_ctx = ssl.create_default_context(cadata=subprocess.run(
            [mv, "credentials", "--cert"], env=env, capture_output=True,
            text=True, check=True).stdout)
        mvs = Side("mailvault", port, sport, "bench", creds["password"], mv_ctx)

        dv.start()
        src = work + "/dovecot/src"
        os.makedirs(src)
        os.rename(mbox, src + "/INBOX")
        dv.chown_tree(src)
        t0 = time.monotonic()
        dv.doveadm("import", "-u", "bench", "-s", "mbox:%s:INBOX=%s/INBOX" % (src, src),
                   "", "all")
        print("Dovecot doveadm import: %.0f s" % (time.monotonic() - t0))
        shutil.rmtree(src)
        dvs = Side("Dovecot", dv.imap_port, dv.imaps_port, "bench", dv.password,
                   ssl.create_default_context(cafile=ca.cert))
        sys.stdout.flush()

        ops = [
            ("SELECT", "SELECT INBOX", None, 0.5),
            ("UID FETCH 1:* (UID FLAGS)", "UID FETCH 1:* (UID FLAGS)", "INBOX", 0.5),
            ("FETCH 1:* (ENVELOPE INTERNALDATE RFC822.SIZE)",
             "FETCH 1:* (ENVELOPE INTERNALDATE RFC822.SIZE)", "INBOX", 0.5),
            ("UID SEARCH FROM %s" % FROM_NAME, "UID SEARCH FROM %s" % FROM_NAME,
             "INBOX", 0.5),
            ("UID SEARCH TEXT %s" % TEXT_WORD, "UID SEARCH TEXT %s" % TEXT_WORD,
             "INBOX", 1.0),
        ]
        # Warm both: Dovecot builds its index and caches, both fill the page cache.
        for side in (dvs, mvs):
            for _, command, select, _ in ops:
                c = side.connect(False, select)
                c.cmd(command)
                c.close()
            c = side.connect(False, "INBOX")
            c.cmd("FETCH 1:%d BODY.PEEK[]" % NBODY)
            c.close()

        print("%-48s %10s %10s %8s %s" % ("operation (%d messages)" % N, "mailvault",
                                          "Dovecot", "ratio", "goal"))
        for label, command, select, goal in ops:
            tm, _ = timed(mvs, command, select)
            td, _ = timed(dvs, command, select)
            print("%-48s %9.3fs %9.3fs %7.2fx <= %.1fx%s" % (
                label, tm, td, tm / td, goal, "" if tm / td <= goal else "  MISSED"))
            sys.stdout.flush()
        for tls in (False, True):
            command = "FETCH 1:%d BODY.PEEK[]" % NBODY
            tm, bm = timed(mvs, command, "INBOX", tls)
            td, bd = timed(dvs, command, "INBOX", tls)
            label = "FETCH 1:%d BODY.PEEK[] %s" % (NBODY, "TLS" if tls else "plain")
            print("%-48s %6.0f MB/s %6.0f MB/s %7.2fx <= 1.0x%s   (%.2f s / %.2f s)" % (
                label, bm / tm / 1e6, bd / td / 1e6, tm / td,
                "" if tm / td <= 1.0 else "  MISSED", tm, td))
            sys.stdout.flush()

        fill_load_box(mvs, "Load")
        fill_load_box(dvs, "Load")
        rm, em, fm, xm = mixed_load(mvs, "Load")
        rd, ed, fd, xd = mixed_load(dvs, "Load")
        print("%-48s %6.0f c/s %7.0f c/s %7.2fx <= 1.0x%s" % (
            "mixed load, %d clients, %.0f s" % (CLIENTS, SECONDS), rm, rd, rd / rm,
            "" if rd / rm <= 1.0 else "  MISSED"))
        print("mixed load protocol errors: mailvault %d, Dovecot %d (goal: none)%s" % (
            em, ed, "  MISSED" if em else ""))
        for name, first in (("mailvault", fm), ("Dovecot", fd)):
            if first:
                print("  %s's first error: %s" % (name, first))
        print("mixed load FETCHes answered NO [EXPUNGEISSUED] (allowed races): "
              "mailvault %d, Dovecot %d" % (xm, xd))
    finally:
        dv.stop()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
