"""The mailvault side of a sync test, for any upstream server.

A store of its own (cheap KDF, passphrase from a file, a private control
socket folder), accounts added against a server given by port, `sync`
run in this process with its log lines and --json summary, and the
store read and changed through `mailvault serve` over IMAP, as a mail
client would. compare() checks that every folder of an upstream equals
the store's folder of the same local name, message by message (bytes,
flags, internal date); the caller says how a server name maps to a
local one (a personal namespace prefix such as Cyrus's "INBOX." is not
part of the local name).

Case pairs one upstream user with a store of its own; round_trip() is
the whole sync round both ways that the Cyrus and minimal-server tests
run against each server shape. An upstream is any object with
imap_port, add_user(user, password), imap(user, password) (imaplib,
logged in), name(local) (the server's name of a local folder) and
local_name(remote) (None outside the personal namespace): tests/lib/
cyrus.py's Cyrus, or an adapter for a Dovecot.

Used by the Cyrus and minimal-server sync tests, whose servers (Cyrus,
a Dovecot with INBOX. as its personal prefix) need the name mapping.
"""
import hashlib
import imaplib
import json
import os
import re
import signal
import subprocess
import time

from dovecot import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MV = os.environ.get("MAILVAULT", os.path.join(TOP, "mailvault"))


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


class Local:
    """A mailvault store in dir, and `mailvault serve` on demand."""

    def __init__(self, path):
        self.dir = os.path.abspath(path)
        os.makedirs(self.dir, exist_ok=True)
        self.env = dict(os.environ)
        self.env["MAILVAULT_STORE"] = os.path.join(self.dir, "store",
                                                   "store.db")
        self.env["MAILVAULT_PASSPHRASE_FILE"] = os.path.join(self.dir,
                                                             "pass")
        with open(self.env["MAILVAULT_PASSPHRASE_FILE"], "w") as f:
            f.write("correct horse battery staple\n")
        # `sync` must not reach a daemon that another test runs
        self.env["XDG_RUNTIME_DIR"] = os.path.join(self.dir, "run")
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        self.serve_proc = None
        self.mv("init", "--kdf", "min", "--quiet")
        for k in ("pop3-port", "pop3s-port", "imaps-port"):
            self.mv("config", "set", k, "0")

    def mv(self, *args, check=True, timeout=300):
        p = subprocess.run([MV, *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise Failure("mailvault %s failed (%d): %s%s" % (
                " ".join(args), p.returncode, p.stdout[-2000:],
                p.stderr[-2000:]))
        return p

    def add_account(self, name, proto, port, user, password, tls="none",
                    extra=()):
        pwfile = os.path.join(self.dir, "pw-" + name)
        with open(pwfile, "w") as f:
            f.write(password + "\n")
        self.mv("account", "add", name, "--" + proto,
                "127.0.0.1:%d" % port, "--user", user, "--tls", tls,
                "--password-file", pwfile, *extra)

    def sync(self, account, check=True):
        """Sync in this process (not through serve's control socket);
        (the --json summary or None, the log lines on stderr)."""
        self.stop_serve()
        p = self.mv("--json", "sync", account, check=check)
        lines = p.stdout.strip().splitlines()
        try:
            summary = json.loads(lines[-1])
        except (IndexError, ValueError):
            summary = None
        return summary, p.stderr

    def serve(self):
        if self.serve_proc is not None:
            return
        self.serve_port = free_port()
        self.serve_proc = subprocess.Popen(
            [MV, "serve", "--imap-port", str(self.serve_port),
             "--imaps-port", "0", "--pop3-port", "0", "--pop3s-port", "0",
             "--no-sync"], env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        cred = json.loads(self.mv("--json", "credentials").stdout)
        self.password = cred["password"]
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                imaplib.IMAP4("127.0.0.1", self.serve_port).logout()
                return
            except OSError:
                time.sleep(0.05)
        raise Failure("mailvault serve did not start")

    def stop_serve(self):
        if self.serve_proc is None:
            return
        self.serve_proc.send_signal(signal.SIGTERM)
        try:
            self.serve_proc.wait(10)
        except subprocess.TimeoutExpired:
            self.serve_proc.kill()
            self.serve_proc.wait(5)
        self.serve_proc = None

    def imap(self, account):
        """An IMAP connection to the store, logged in to account."""
        self.serve()
        m = imaplib.IMAP4("127.0.0.1", self.serve_port)
        m.login(account, self.password)
        return m

    def stop(self):
        self.stop_serve()


# ---- reading either side ----

FETCH_RE = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)|"
                      rb"INTERNALDATE \"([^\"]+)\"")
LIST_RE = re.compile(r'\((.*?)\) (NIL|"(.)") (.*)$')


def quote(name):
    return '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')


def folder_state(m, name):
    """{uid: (sha256, flags, internaldate)} of a folder, None if it
    cannot be selected."""
    typ, _ = m.select(quote(name), readonly=True)
    if typ != "OK":
        return None
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, body = item
        uid = flags = date = None
        for g in FETCH_RE.finditer(meta):
            if g.group(1):
                uid = int(g.group(1))
            if g.group(2) is not None:
                flags = g.group(2)
            if g.group(3):
                date = g.group(3)
        fl = " ".join(sorted(f for f in flags.decode().split()
                             if f != "\\Recent"))
        t = imaplib.Internaldate2tuple(b'INTERNALDATE "' + date + b'"')
        out[uid] = (hashlib.sha256(body).hexdigest(), fl, time.mktime(t))
    return out


def folders(m):
    """{name as listed: delimiter} of every selectable folder."""
    typ, data = m.list('""', "*")
    names = {}
    for line in data:
        if line is None:
            continue
        if isinstance(line, tuple):      # a name sent as a literal
            line = line[0] + line[1]
        mm = LIST_RE.match(line.decode())
        attrs = mm.group(1).lower()
        if "\\noselect" in attrs or "\\nonexistent" in attrs:
            continue
        names[mm.group(4).strip('"')] = mm.group(3)
    return names


def message_uid(m, folder, msgid):
    """The UID of the message with this Message-ID in a folder."""
    typ, _ = m.select(quote(folder))
    expect(typ == "OK", "cannot select " + folder)
    typ, d = m.uid("SEARCH", "HEADER", "Message-ID", msgid)
    uids = d[0].split()
    expect(len(uids) == 1, "%d messages with Message-ID %s in %s" % (
        len(uids), msgid, folder))
    return uids[0].decode()


def flags_of(m, folder, msgid):
    uid = message_uid(m, folder, msgid)
    typ, d = m.uid("FETCH", uid, "(FLAGS)")
    return set(re.search(rb"FLAGS \(([^)]*)\)", d[0]).group(1).decode()
               .split()) - {"\\Recent"}


def compare(remote, local, to_local):
    """Every folder of remote (an imaplib connection) equals the local
    folder to_local(name) names, and the store has no other folder with
    messages. Returns the number of messages compared."""
    rf = {}
    for name in folders(remote):
        ln = to_local(name)
        if ln is not None:
            rf[ln] = name
    lf = folders(local)
    extra = [f for f in lf if f not in rf and folder_state(local, f)]
    expect(not extra, "local folders with messages that are not upstream: "
           "%s (upstream: %s)" % (extra, sorted(rf)))
    missing = [f for f in rf if f not in lf]
    expect(not missing, "upstream folders missing here: %s" % missing)
    total = 0
    for ln, rn in sorted(rf.items()):
        rs = sorted(folder_state(remote, rn).values())
        ls = sorted(folder_state(local, ln).values())
        if rs != ls:
            only_r = [x for x in rs if x not in ls][:3]
            only_l = [x for x in ls if x not in rs][:3]
            raise Failure("%s differs: %d upstream, %d here; upstream "
                          "only %s; here only %s" % (
                              ln, len(rs), len(ls), only_r, only_l))
        total += len(rs)
    return total


def message(i, folder, size=0):
    """A test message with a Message-ID that names it."""
    body = ("line %d of %s\r\n" % (i, folder)) * (1 + size // 20)
    return ("From: t%d@example.org\r\nTo: alice@example.org\r\n"
            "Message-ID: <%d.%s@mvtest>\r\nSubject: message %d in %s\r\n"
            "Date: Mon, 02 Jan 2023 10:00:%02d +0000\r\n\r\n%s" % (
                i, i, folder.replace("/", "-").replace(" ", "_"), i,
                folder, i % 60, body)).encode()


def msgid(i, folder):
    return "<%d.%s@mvtest>" % (i, folder.replace("/", "-").replace(" ",
                                                                    "_"))


# ---- one upstream user and one store ----

class Case:
    """A user of its own on upstream, and a store with one account
    (acc) for it, in folder path."""

    def __init__(self, upstream, user, path, password="pw"):
        self.up = upstream
        self.user, self.password = user, password
        upstream.add_user(user, password)
        self.local = Local(path)
        self.local.add_account("acc", "imap", upstream.imap_port, user,
                               password)

    def remote(self):
        return self.up.imap(self.user, self.password)

    def here(self):
        return self.local.imap("acc")

    def sync(self):
        return self.local.sync("acc")

    def append(self, folder, i, flags="()"):
        r = self.remote()
        typ, d = r.append(quote(self.up.name(folder)), flags, None,
                          message(i, folder))
        r.logout()
        expect(typ == "OK", "APPEND to %s: %s" % (folder, d))

    def compare(self):
        r, h = self.remote(), self.here()
        try:
            return compare(r, h, self.up.local_name)
        finally:
            r.logout()
            h.logout()


def reset_folder(m, name):
    """Make folder name again with the same messages (flags, dates):
    a new UIDVALIDITY, as a server rebuilt from a backup gives."""
    m.select(quote(name))
    typ, data = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    msgs = [x for x in data if isinstance(x, tuple)]
    m.close()
    typ, d = m.delete(quote(name))
    expect(typ == "OK", "DELETE %s refused: %s" % (name, d))
    typ, d = m.create(quote(name))
    expect(typ == "OK", "CREATE %s refused: %s" % (name, d))
    for meta, body in msgs:
        fl = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode()
        date = re.search(rb'INTERNALDATE "([^"]+)"', meta).group(1).decode()
        m.append(quote(name), "(%s)" % " ".join(
            f for f in fl.split() if f != "\\Recent"), '"%s"' % date, body)


def round_trip(c):
    """Case c through a whole round, both sides compared after each sync:
    an initial sync; upstream flags, an expunge, new mail, a folder
    rename and delete; here flags, an expunge, an append, a move, a
    folder create and rename; a three-way flag conflict; a UIDVALIDITY
    reset (nothing fetched again, nothing lost)."""
    up = c.up
    r = c.remote()
    for f in ("Archive", "Lists", "Lists/dev", "Doomed"):
        typ, d = r.create(quote(up.name(f)))
        expect(typ == "OK", "CREATE %s: %s" % (f, d))
    r.logout()
    for i in range(6):
        c.append("INBOX", i, "(\\Seen)" if i % 2 else "()")
        c.append("Archive", 20 + i, "(\\Flagged $Work)")
    c.append("Lists/dev", 40)
    c.append("Doomed", 50)
    c.sync()
    expect(c.compare() == 14, "initial sync incomplete")

    r = c.remote()
    r.select("INBOX")
    r.uid("STORE", message_uid(r, "INBOX", msgid(0, "INBOX")), "+FLAGS",
          "(\\Answered)")
    r.uid("STORE", message_uid(r, "INBOX", msgid(2, "INBOX")), "+FLAGS",
          "(\\Deleted)")
    r.expunge()
    r.rename(quote(up.name("Lists")), quote(up.name("Groups")))
    r.delete(quote(up.name("Doomed")))
    r.logout()
    c.append("INBOX", 7)
    c.sync()
    expect(c.compare() == 13, "upstream changes not followed")

    h = c.here()
    h.select("INBOX")
    h.uid("STORE", message_uid(h, "INBOX", msgid(3, "INBOX")), "-FLAGS",
          "(\\Seen)")
    h.uid("STORE", message_uid(h, "INBOX", msgid(4, "INBOX")), "+FLAGS",
          "(\\Deleted)")
    h.expunge()
    h.uid("MOVE", message_uid(h, "INBOX", msgid(5, "INBOX")), "Archive")
    h.create("Made/Here")
    h.append("Made/Here", "(\\Draft)", None, message(60, "Made/Here"))
    h.rename("Archive", "Old")
    h.logout()
    c.sync()
    expect(c.compare() == 13, "local changes not pushed")

    # both sides change one message's flags: each side's change stays
    r = c.remote()
    r.uid("STORE", message_uid(r, up.name("Old"), msgid(21, "Archive")),
          "-FLAGS", "(\\Flagged)")
    r.logout()
    h = c.here()
    h.uid("STORE", message_uid(h, "Old", msgid(21, "Archive")), "+FLAGS",
          "(\\Answered)")
    h.logout()
    c.sync()
    c.compare()
    h = c.here()
    fl = flags_of(h, "Old", msgid(21, "Archive"))
    h.logout()
    expect("\\Answered" in fl and "\\Flagged" not in fl,
           "the three-way merge lost a side: %s" % fl)

    r = c.remote()
    reset_folder(r, up.name("Groups/dev"))
    reset_folder(r, up.name("Old"))
    r.logout()
    summary, out = c.sync()
    expect(summary["fetched"] == 0, "a UIDVALIDITY reset fetched again: "
           "%s" % summary)
    expect(c.compare() == 13, "messages lost or doubled by a reset")
    c.local.stop()
