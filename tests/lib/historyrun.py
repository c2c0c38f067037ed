"""One randomized history (tests/lib/history.py) against a fresh server:
the server, the store, the fault proxy between them, and the server's
way of renumbering a folder. Shared by tests/integration/
test_sync_history.py and bench/bench_sync_history.py.

    run_history("dovecot" or "cyrus", seed, steps, folder) -> summary

Dovecot renumbers a folder with `doveadm mailbox update --uid-validity`
(same UIDs, a new UIDVALIDITY) or by deleting it and making it again
with the same messages (new UIDs too); Cyrus only the second way. Cyrus
keeps a deleted folder as DELETED.<name>.<time in seconds> (its delayed
delete), so a second DELETE of one name within a second is refused
("Mailbox already exists"): the test's client then tries again in the
next second, as a person would.
"""
import imaplib
import os
import random
import time

from cyrus import Cyrus
from dovecot import Dovecot
from faultproxy import FaultProxy
from history import History, Side, quote, summary_counts
from mvlocal import Failure, Local, reset_folder

USER, PASSWORD = "alice", "x"


def uidvalidity(m, name):
    typ, d = m.status(quote(name), "(UIDVALIDITY)")
    return int(d[0].decode().split("UIDVALIDITY")[1].strip(" )"))


class DovecotUp:
    def __init__(self, root, rng):
        self.rng = rng
        self.dv = Dovecot(root).start()
        self.imap_port = self.dv.imap_port

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.login(USER, PASSWORD)
        return m

    def name(self, local):
        return local.replace("/", ".")

    def local_name(self, remote):
        return remote.replace(".", "/")

    def reset(self, side, folder):
        side.close()
        m = self.imap()
        try:
            if self.rng.random() < 0.5:
                uv = uidvalidity(m, folder) + self.rng.randint(1, 1000)
                self.dv.doveadm("mailbox", "update", "-u", USER,
                                "--uid-validity", str(uv), folder)
                return "doveadm, UIDVALIDITY %d" % uv
            reset_folder(m, folder)
            return "deleted and made again"
        finally:
            m.logout()

    def stop(self):
        self.dv.stop()


class CyrusSide(Side):
    """Cyrus as the other client sees it (see the top: DELETE)."""

    def delete(self, folder):
        for _ in range(3):
            m = self.conn()
            m.select("INBOX")
            typ, d = m.delete(quote(self.name(folder)))
            if typ == "OK":
                return
            if b"already exists" not in b" ".join(d):
                break
            time.sleep(1.05 - time.time() % 1)
        raise AssertionError("upstream: DELETE %s refused: %s" % (folder, d))


class CyrusUp:
    def __init__(self, root, rng):
        self.rng = rng
        self.cy = Cyrus(root, user=USER, password=PASSWORD,
                        altnamespace=rng.random() < 0.5).start()
        self.imap_port = self.cy.imap_port

    def imap(self):
        return self.cy.imap()

    def name(self, local):
        return self.cy.name(local)

    def local_name(self, remote):
        return self.cy.local_name(remote)

    def reset(self, side, folder):
        side.close()
        name = self.name(folder)
        m = self.imap()
        try:
            old = uidvalidity(m, name)
            for _ in range(3):
                try:
                    reset_folder(m, name)
                except Failure as e:
                    if "already exists" not in str(e):
                        raise
                new = uidvalidity(m, name)
                if new != old:
                    # the engine's own DELETE of the name in the next sync
                    # must not fall in the same second (see the top)
                    time.sleep(1.05 - time.time() % 1)
                    return "deleted and made again, UIDVALIDITY %d" % new
                time.sleep(1.05 - time.time() % 1)
            raise AssertionError("Cyrus kept the UIDVALIDITY of %s" % name)
        finally:
            m.logout()

    def stop(self):
        self.cy.stop()


def folders_deleted_here(server, folder):
    """A fixed case the histories found (Dovecot drops a connection whose
    selected folder is deleted, and the last-copy rule now selects a
    folder deleted here before deleting it upstream): two folders
    deleted here, one of which got new mail upstream meanwhile. The
    first goes upstream too, the second keeps the new mail on both
    sides and nothing else."""
    rng = random.Random(0)
    root = os.path.join(folder, "deleted-here-" + server)
    local = Local(os.path.join(root, "store"))
    up = None
    try:
        up = (DovecotUp if server == "dovecot" else CyrusUp)(
            os.path.join(root, "server"), rng)
        local.add_account("acc", "imap", up.imap_port, USER, PASSWORD)
        there = Side("upstream", up.imap, up.name)
        here = Side("here", lambda: local.imap("acc"))
        for f in ("A", "B"):
            there.create(f)
            there.append(f, 1 if f == "A" else 2, ())
            there.append(f, 3 if f == "A" else 4, ("\\Seen",))
        there.close()
        local.sync("acc")
        here.delete("A")
        here.delete("B")
        here.close()
        there.append("B", 5, ("\\Flagged",))
        there.close()
        summary, log = local.sync("acc")
        if summary is None or not summary["ok"]:
            raise AssertionError("the sync failed: %s %s" % (summary, log))
        for side, name in ((here, lambda n: n), (there, up.local_name)):
            state = side.state(name)
            side.close()
            if sorted(state) != ["B", "INBOX"] or sorted(state["B"]) != [5]:
                raise AssertionError("%s holds %s, want INBOX and B with "
                                     "message 5 only" % (side.label, {
                                         k: sorted(v) for k, v in
                                         state.items()}))
        if "did not come from here" not in log:
            raise AssertionError("not said:\n" + log)
    finally:
        local.stop()
        if up is not None:
            up.stop()


def run_history(server, seed, steps, folder):
    rng = random.Random("%s-%d" % (server, seed))
    root = os.path.join(folder, "history-%s-%d" % (server, seed))
    local = Local(os.path.join(root, "store"))
    up = proxy = None
    try:
        up = (DovecotUp if server == "dovecot" else CyrusUp)(
            os.path.join(root, "server"), rng)
        proxy = FaultProxy(up.imap_port).start()
        local.add_account("acc", "imap", proxy.port, USER, PASSWORD)
        label = "%s, seed %d" % (server, seed)
        if server == "cyrus":
            label += ", altnamespace %s" % ("on" if up.cy.altnamespace
                                             else "off")
        remote = (CyrusSide if server == "cyrus" else Side)(
            "upstream", up.imap, up.name)
        h = History(rng, local, remote, lambda f: up.reset(remote, f),
                    proxy, label, up.local_name)
        line = h.run(steps)
        return line + "\n     " + summary_counts(h)
    finally:
        local.stop()
        if proxy is not None:
            proxy.stop()
        if up is not None:
            up.stop()
