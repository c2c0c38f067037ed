"""Integration: `mailvault sync` against a real Dovecot over IMAPS.

An initial sync of a few thousand messages in several folders, compared
byte for byte (with flags and internal dates) with what Dovecot serves;
then incremental syncs both ways (new mail, flags, expunges, folders),
offline changes queued while Dovecot is down and replayed, a three-way
flag conflict, a UIDVALIDITY reset, and the same flag sync again on a
Dovecot that offers no CONDSTORE.

The store's side is read through `mailvault serve` (its own IMAP server),
so both sides are compared as an IMAP client sees them. Local changes are
made through that server too, which is how a mail client makes them.

The other test_sync_*.py files import Env from here.
"""
import hashlib
import imaplib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from dovecot import Dovecot, free_port   # noqa: E402
from testca import TestCA, fingerprint   # noqa: E402

MV = os.environ.get("MAILVAULT", os.path.join(TOP, "mailvault"))
TESTDIR = os.environ.get("TESTDIR") or os.getcwd()
SANITIZED = bool(os.environ.get("MAILVAULT_SANITIZED"))
USER = "alice"

# Dovecot without CONDSTORE/QRESYNC: the capability list after login.
NO_CONDSTORE = """protocol imap {
  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
LITERAL+ UIDPLUS MOVE NAMESPACE UNSELECT CHILDREN
}
"""


class Failure(Exception):
    pass


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, fn):
        t = time.time()
        try:
            fn()
            self.passed += 1
            print("ok   %s (%.1f s)" % (name, time.time() - t), flush=True)
        except Exception as e:     # noqa: BLE001 - report and go on
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e),
                  flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def expect(cond, what):
    if not cond:
        raise Failure(what)


class Env:
    """A Dovecot with TLS from a test CA, a mailvault store, and helpers."""

    def __init__(self, name="env", extra_conf="", pop3=False, dovecot=True):
        self.dir = os.path.join(TESTDIR, name)
        os.makedirs(self.dir, exist_ok=True)
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
        self.env = dict(os.environ)
        self.env["MAILVAULT_STORE"] = os.path.join(self.dir, "store",
                                                   "store.db")
        self.env["MAILVAULT_PASSPHRASE_FILE"] = os.path.join(self.dir,
                                                             "pass")
        with open(self.env["MAILVAULT_PASSPHRASE_FILE"], "w") as f:
            f.write("correct horse battery staple\n")
        # A control socket of its own: `sync` must not reach a daemon
        # another test (or person) runs on this machine.
        self.env["XDG_RUNTIME_DIR"] = os.path.join(self.dir, "run")
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        self.pwfile = os.path.join(self.dir, "upstream-password")
        with open(self.pwfile, "w") as f:
            f.write("x\n")
        self.serve_proc = None
        self.mv("init", "--kdf", "min", "--quiet")
        for k in ("pop3-port", "pop3s-port", "imaps-port"):
            self.mv("config", "set", k, "0")

    # ---- mailvault ----

    def mv(self, *args, check=True, timeout=300):
        p = subprocess.run([MV, *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise Failure("mailvault %s failed (%d): %s%s" % (
                " ".join(args), p.returncode, p.stdout[-2000:],
                p.stderr[-2000:]))
        return p

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

    def serve(self):
        """Start `mailvault serve` (plain IMAP on loopback) if needed."""
        if self.serve_proc is not None:
            return
        self.serve_port = free_port()
        self.serve_proc = subprocess.Popen(
            [MV, "serve", "--imap-port", str(self.serve_port),
             "--imaps-port", "0", "--pop3-port", "0", "--pop3s-port", "0",
             "--no-sync"],
            env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cred = json.loads(self.mv("--json", "credentials").stdout)
        self.local_password = cred["password"]
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                imaplib.IMAP4("127.0.0.1", self.serve_port).logout()
                return
            except OSError:
                time.sleep(0.05)
        raise Failure("mailvault serve did not start")

    def stop_serve(self):
        if self.serve_proc is not None:
            self.serve_proc.send_signal(signal.SIGTERM)
            try:
                self.serve_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.serve_proc.kill()
            self.serve_proc = None

    def local(self, account="acc"):
        self.serve()
        m = imaplib.IMAP4("127.0.0.1", self.serve_port)
        m.login(account, self.local_password)
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
            subprocess.run([sys.executable, os.path.join(
                TOP, "scripts", "gen-corpus.py"), "maildir", str(n), tmp,
                "--seed", str(seed + i)], check=True)
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
                raise Failure("%s differs: %d remote, %d local, %d missing "
                              "locally, %d extra; e.g. %s" % (
                                  f, len(rs), len(ls), missing, extra,
                                  diffflags))
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


# ---- the tests ----

def scale(n):
    return max(20, n // 5) if SANITIZED else n


def run():
    res = Results()
    env = Env("imap")
    counts = {"INBOX": scale(1500), "Archive": scale(800),
              "Work/Projects": scale(400), "Sent": scale(300)}
    env.populate(counts)
    env.add_imap()

    def initial():
        p = env.sync("acc")
        expect("acc" in p.stdout + p.stderr, "no summary line")
        n = compare(env)
        expect(n == sum(counts.values()), "%d messages, want %d" % (
            n, sum(counts.values())))
    res.check("initial sync of %d messages is byte-exact with flags and "
              "dates" % sum(counts.values()), initial)

    def nothing_changed():
        p = env.sync("acc")
        expect(" 0 new" in p.stdout + p.stderr or "0 new" in p.stdout +
               p.stderr, "a no-change sync reported work: " + p.stdout)
        compare(env)
    res.check("a second sync changes nothing", nothing_changed)

    def remote_changes():
        r = env.remote()
        r.select("INBOX")
        r.append("INBOX", "(\\Flagged)", imaplib.Time2Internaldate(
            1600000000), b"From: x@y\r\nSubject: new one\r\n\r\nhi\r\n")
        r.uid("STORE", "1:20", "+FLAGS", "(\\Answered $label1)")
        r.uid("STORE", "21:30", "-FLAGS", "(\\Seen)")
        r.uid("STORE", "31:35", "+FLAGS", "(\\Deleted)")
        r.expunge()
        r.create("Fresh")
        r.append("Fresh", "()", None, b"Subject: in a new folder\r\n\r\nx\r\n")
        r.rename("Sent", '"Sent Items"')
        r.logout()
        env.sync("acc")
        compare(env)
    res.check("remote new mail, flags, expunges, folder create and rename "
              "come down", remote_changes)

    def local_changes():
        loc = env.local()
        loc.select("INBOX")
        loc.uid("STORE", "40:50", "+FLAGS", "(\\Flagged)")
        loc.uid("STORE", "51:55", "+FLAGS", "(\\Deleted)")
        loc.expunge()
        loc.create('"Made Here"')
        loc.append('"Made Here"', "(\\Seen)", imaplib.Time2Internaldate(
            1500000000), b"From: me@here\r\nSubject: draft\r\n\r\nbody\r\n")
        loc.uid("COPY", "60:62", "Archive")
        loc.logout()
        env.sync("acc")
        compare(env)
    res.check("local flags, expunges, folder create, append and copy go up",
              local_changes)

    def offline():
        env.dv.stop()
        loc = env.local()
        loc.select("Archive")
        loc.uid("STORE", "1:10", "+FLAGS", "(\\Flagged)")
        loc.uid("STORE", "11:12", "+FLAGS", "(\\Deleted)")
        loc.expunge()
        loc.create('"Offline Folder"')
        loc.append('"Offline Folder"', "()", None,
                   b"Subject: written offline\r\n\r\nz\r\n")
        loc.logout()
        p = env.sync("acc", check=False)
        expect(p.returncode != 0, "sync with Dovecot down succeeded")
        expect("refused" in (p.stdout + p.stderr).lower(),
               "no reason given: " + p.stderr)
        env.dv.start()
        env.sync("acc")
        compare(env)
    res.check("offline changes are queued while Dovecot is down and "
              "replayed", offline)

    def conflict():
        # both sides start with \Seen; remote drops \Seen and adds \Flagged,
        # local adds \Answered: the merge keeps both changes
        r = env.remote()
        r.select("Archive")
        r.uid("STORE", "100", "FLAGS", "(\\Seen)")
        r.logout()
        env.sync("acc")
        r = env.remote()
        r.select("Archive")
        typ, d = r.uid("FETCH", "100", "(BODY.PEEK[HEADER.FIELDS "
                                       "(MESSAGE-ID)])")
        mid = re.search(rb"<[^>]+>", d[0][1]).group(0).decode()
        r.uid("STORE", "100", "FLAGS", "(\\Flagged)")
        r.logout()
        loc = env.local()
        loc.select("Archive")
        typ, d = loc.uid("SEARCH", "HEADER", "Message-ID", mid)
        luid = d[0].split()[0].decode()
        loc.uid("STORE", luid, "+FLAGS", "(\\Answered)")
        loc.logout()
        env.sync("acc")
        compare(env)
        r = env.remote()
        r.select("Archive", readonly=True)
        typ, d = r.uid("FETCH", "100", "(FLAGS)")
        r.logout()
        fl = d[0].decode()
        expect("\\Flagged" in fl and "\\Answered" in fl and
               "\\Seen" not in fl, "merged flags wrong: " + fl)
    res.check("a three-way flag conflict merges both sides' changes",
              conflict)

    def uidvalidity_reset():
        before = local_uids(env, "Work/Projects")
        r = env.remote()
        r.select("Work/Projects".replace("/", "."), readonly=True)
        typ, data = r.uid("FETCH", "1:*", "(FLAGS INTERNALDATE "
                                          "BODY.PEEK[])")
        msgs = [x for x in data if isinstance(x, tuple)]
        r.close()
        r.delete("Work.Projects")
        r.create("Work.Projects")
        for meta, body in msgs:
            flags = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode()
            flags = " ".join(f for f in flags.split() if f != "\\Recent")
            date = re.search(rb'INTERNALDATE "([^"]+)"', meta).group(1)
            r.append("Work.Projects", "(%s)" % flags, '"%s"' %
                     date.decode(), body)
        r.logout()
        env.sync("acc")
        compare(env)
        after = local_uids(env, "Work/Projects")
        expect(sorted(after) == sorted(before), "local UIDs changed after "
               "a UIDVALIDITY reset (%d before, %d after)" % (
                   len(before), len(after)))
    res.check("a UIDVALIDITY reset: no duplicate, no loss, local UIDs kept",
              uidvalidity_reset)

    def folder_delete_both_ways():
        r = env.remote()
        r.delete("Fresh")
        r.logout()
        loc = env.local()
        loc.delete('"Made Here"')
        loc.logout()
        env.sync("acc")
        compare(env)
    res.check("folder deletes go both ways", folder_delete_both_ways)
    env.stop()

    # the same flag traffic on a Dovecot that offers no CONDSTORE
    env2 = Env("nocondstore", extra_conf=NO_CONDSTORE)
    env2.populate({"INBOX": scale(300), "Other": scale(100)}, seed=7)
    env2.add_imap()

    def without_condstore():
        env2.sync("acc")
        compare(env2)
        r = env2.remote()
        r.select("INBOX")
        r.uid("STORE", "1:30", "+FLAGS", "(\\Flagged)")
        r.uid("STORE", "31:33", "+FLAGS", "(\\Deleted)")
        r.expunge()
        r.logout()
        loc = env2.local()
        loc.select("Other")
        loc.uid("STORE", "1:5", "-FLAGS", "(\\Seen)")
        loc.logout()
        env2.sync("acc")
        compare(env2)
    res.check("flags and expunges both ways without CONDSTORE",
              without_condstore)
    env2.stop()
    res.finish()


if __name__ == "__main__":
    run()
