"""A Dovecot upstream and a mailvault store that syncs from it, for the
sync and daemon integration tests (test_sync_*.py, test_daemon*.py,
test_serve_sync.py).

Env(name) is a mvtest.Store (its own folder, control socket and log)
whose account "acc" can be pointed at a private Dovecot (tests/lib/
dovecot.py) serving IMAPS (and POP3/POP3S with pop3=True) with a
certificate from a test CA (tests/lib/testca.py); any user logs in there
with the password "x", which is in env.pwfile. The store's side is read
through `mailvault serve --no-sync` (env.local()), so both sides are
compared as an IMAP client sees them, and local changes are made through
it, as a mail client makes them. compare() says whether every folder of
Dovecot equals the same folder of the store, byte for byte with flags and
internal dates.
"""
import hashlib
import imaplib
import json
import os
import re
import shutil
import subprocess
import sys
import time

from dovecot import Dovecot
from mvtest import GEN_CORPUS, Store, free_port
from runner import expect
from testca import TestCA

USER = "alice"


class Env(Store):
    """A Dovecot with TLS from a test CA, a mailvault store, and helpers."""

    def __init__(self, name="env", extra_conf="", pop3=False, dovecot=True):
        Store.__init__(self, name)
        self.ca = TestCA(os.path.join(self.dir, "ca"))
        self.cert, self.key = self.ca.server("localhost")
        self.dv = None
        if dovecot:
            self.dv = Dovecot(os.path.join(self.dir, "dovecot"),
                              imaps_port=free_port(),
                              pop3_port=free_port() if pop3 else 0,
                              pop3s_port=free_port() if pop3 else 0,
                              cert=self.cert, key=self.key,
                              extra_conf=extra_conf)
            self.dv.start()
        self.pwfile = os.path.join(self.dir, "upstream-password")
        with open(self.pwfile, "w") as f:
            f.write("x\n")
        for k in ("pop3-port", "pop3s-port", "imaps-port"):
            self.mv("config", "set", k, "0")

    # ---- mailvault ----

    def add_imap(self, name="acc", port=None, tls="implicit", extra=()):
        port = port or self.dv.imaps_port
        self.mv("account", "add", name, "--imap", "127.0.0.1:%d" % port,
                "--user", USER, "--tls", tls, "--ca-file", self.ca.cert,
                "--password-file", self.pwfile, *extra)

    def sync(self, *accounts, check=True, timeout=300):
        return self.mv("sync", *accounts, check=check, timeout=timeout)

    def sync_json(self, account, check=True):
        """Sync in this process, not through the running serve (whose
        control socket `sync` would use), and return its --json summary
        (None if it printed none) and the process (log lines on stderr)."""
        self.stop_serve()
        p = self.mv("--json", "sync", account, check=check)
        lines = p.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1]), p
        except (IndexError, ValueError):
            return None, p

    def local(self, account="acc"):
        """An IMAP session on the store, through `serve --no-sync`."""
        if self.proc is None:
            self.serve_port = free_port()
            self.serve(imap=self.serve_port, extra_args=["--no-sync"])
        m = imaplib.IMAP4("127.0.0.1", self.serve_port)
        m.login(account, self.password)
        return m

    # ---- Dovecot ----

    def remote(self):
        m = imaplib.IMAP4("127.0.0.1", self.dv.imap_port)
        m.login(USER, "x")
        return m

    def maildir_folder(self, folder, user=USER):
        base = self.dv.maildir(user)
        if folder == "INBOX":
            return base
        return os.path.join(base, "." + folder.replace("/", "."))

    def populate(self, counts, seed=1, user=USER):
        """Put gen-corpus messages straight into Dovecot's Maildirs."""
        for i, (folder, n) in enumerate(counts.items()):
            d = self.maildir_folder(folder, user)
            tmp = os.path.join(self.dir, "gen-%d" % i)
            subprocess.run([sys.executable, GEN_CORPUS, "maildir", str(n),
                            tmp, "--seed", str(seed + i)], check=True)
            os.makedirs(d, exist_ok=True)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(d, sub), exist_ok=True)
                for fn in os.listdir(os.path.join(tmp, sub)):
                    # 'T' (trashed) would read as \Deleted: keep it out
                    dst = fn.replace("T", "") if ":2," in fn else fn
                    shutil.move(os.path.join(tmp, sub, fn),
                                os.path.join(d, sub, dst))
            if folder != "INBOX":
                open(os.path.join(d, "maildirfolder"), "w").close()
            shutil.rmtree(tmp)
        self.dv.chown_tree(self.dv.maildir(user))

    def stop(self):
        self.stop_serve()
        if self.dv is not None:
            self.dv.stop()


# ---- comparing both sides ----

FETCH_RE = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)|INTERNALDATE \"([^\"]+)\"")


def folder_state(m, folder, delim="/"):
    """[(sha256, flags, internaldate)] sorted, and the raw UIDs."""
    folder = folder.replace("/", delim)
    typ, _ = m.select('"%s"' % folder, readonly=True)
    if typ != "OK":
        return None, []
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    out, uids = [], []
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
        fl = sorted(f for f in flags.decode().split() if f != "\\Recent")
        t = imaplib.Internaldate2tuple(b'INTERNALDATE "' + date + b'"')
        out.append((hashlib.sha256(body).hexdigest(), " ".join(fl),
                    time.mktime(t)))
        uids.append(uid)
    out.sort()
    return out, uids


def folders(m):
    typ, data = m.list('""', "*")
    names = []
    for line in data:
        if line is None:
            continue
        s = line.decode()
        mm = re.match(r'\((.*?)\) (NIL|"(.)") (.*)$', s)
        name = mm.group(4).strip('"')
        delim = mm.group(3)
        if "\\Noselect" in mm.group(1) or "\\NonExistent" in mm.group(1):
            continue
        if delim and delim != "/":
            name = name.replace(delim, "/")
        names.append(name)
    return sorted(names)


def compare(env, account="acc"):
    """Every folder of Dovecot equals the same folder of the store."""
    r, loc = env.remote(), env.local(account)
    try:
        rf, lf = folders(r), folders(loc)
        # a parent the server does not list (a \Noselect one) exists
        # locally as an empty folder
        lf = [f for f in lf if f in rf or not any(
            x.startswith(f + "/") for x in rf) or folder_state(loc, f)[1]]
        expect(rf == lf, "folders differ: remote %s, local %s" % (rf, lf))
        total = 0
        for f in rf:
            rs, _ = folder_state(r, f, ".")
            ls, luids = folder_state(loc, f)
            expect(len(luids) == len(set(luids)), "duplicate UIDs in " + f)
            if rs != ls:
                missing = len([x for x in rs if x not in ls])
                extra = len([x for x in ls if x not in rs])
                diffflags = [(a, b) for a, b in zip(rs, ls) if a != b][:3]
                raise AssertionError(
                    "%s differs: %d remote, %d local, %d missing locally, "
                    "%d extra; e.g. %s" % (f, len(rs), len(ls), missing,
                                           extra, diffflags))
            total += len(rs)
        return total
    finally:
        r.logout()
        loc.logout()


def local_uids(env, folder, account="acc"):
    m = env.local(account)
    try:
        return folder_state(m, folder)[1]
    finally:
        m.logout()
