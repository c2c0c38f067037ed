"""Randomized two-sided sync histories, checked against a model.

A History drives one mailvault store (tests/lib/mvlocal.py's Local, read
and changed over IMAP through `mailvault serve`, as a mail client would)
and one upstream server (a private Dovecot or Cyrus, changed over IMAP by
"another client"). It applies random operations to both sides, syncs now
and then (sometimes cut by the fault proxy at a random byte, sometimes
killed there with SIGKILL, then synced again), and after every completed
sync reads both sides whole and compares them with what the model says.

The model is plain Python: per side, folders (an id that survives
renames, a name, messages) and messages (an id naming their bytes, their
flags, whether this is the very message both sides agreed on at the last
sync, and for a local move or copy the agreed message it was made from),
plus the state both sides agreed on at the last sync. Message ids are
unique per folder on each side (a copy goes to another folder), so a
message is known by (folder, id) and compared by bytes, flags and
internal date.

The rules below are the sync engine's contract (sync/engine.c's top
comment says how the engine keeps them); the oracle, expected(),
computes them from the agreed state and the two sides, and nothing else.

 1. Flags, per message on both sides: a three-way merge per flag and
    keyword against the last agreed flags: changed on one side, that
    side's value; changed on both, they agree (there are two values).
 2. A message deleted on one side (expunged, or moved away) since the
    last sync is deleted on the other side, even if its flags changed
    there: expunge wins over a flag change.
 3. A message added on one side (appended, copied or moved in) is added
    on the other with its flags. The same bytes added to the same folder
    on both sides are one message, with the flags of both (their union).
 4. A local move is a move upstream when its source is still there
    (same folder pair, same UIDVALIDITY): its flags are merged as in 1
    with the source's upstream flags (a flag set upstream on the source
    reaches the moved message). Otherwise (the source is gone upstream,
    its folder was deleted, renumbered, or this is a copy whose source
    stays), the new message has the flags it has here.
 5. Folders: created on one side, created on the other; renamed on one
    side, renamed on the other (both: the server's name wins). A remote
    rename is followed only on evidence that cannot collide: a message
    agreed at the last sync that is still in the folder on both sides
    (same UID upstream). Without it the engine sees a folder deleted
    upstream and a new one, and rule 6 applies to the old one. (Cyrus
    gives folders made in the same second one UIDVALIDITY: when a folder
    new upstream shares the renamed one's, not following is accepted
    too, if the server shows it; see History.ambiguous().)
 6. A folder deleted on one side is deleted on the other, with the
    messages agreed at the last sync; the messages added to it on the
    other side since then are kept, and with them the folder (made
    again where it was deleted). Deleted here and renamed or renumbered
    upstream: kept upstream whole (the engine cannot verify which
    upstream messages are the ones deleted here), and made here again.
 7. UIDVALIDITY reset upstream (a renumbered folder): the engine
    matches the messages again by Message-ID and size, so nothing is
    fetched again and flags merge as in 1; but a deletion on either side
    since the last sync is not carried over in that folder (the message
    comes back from the side that still has it), since a deleted message
    cannot be matched to its renumbered copy.
 8. Last copy: nothing else is ever deleted. A sync cut or killed at any
    byte, then run again, ends as one uninterrupted sync would.

The generator keeps to what the model can tell apart: names are never
reused, a folder holds at most MAX_FOLDER messages on a side, a local
move or copy starts from a message that is in one folder only and that
no other local move or copy used since the last sync.

    h = History(rng, local, upstream_adapter, proxy)
    h.run(steps)          # raises AssertionError with the story

MAILVAULT_HISTORY_SEED replays a run's operations (the seed is printed);
MAILVAULT_HISTORY_STEPS lengthens it. A cut's byte count depends on the
server's exact answers, so a replay cuts at the same count but not
always at the same command.
"""
import email.utils
import imaplib
import json
import os
import re
import signal
import subprocess
import time

from mvlocal import MV

SYS_FLAGS = ("\\Seen", "\\Answered", "\\Flagged", "\\Draft")
KEYWORDS = ("$a", "$b", "$c")
ALL_FLAGS = SYS_FLAGS + KEYWORDS
MAX_FOLDER = 7          # messages per folder on a side (see the top)
MAX_FOLDERS = 6         # INBOX included
DATE0 = 1700000000


def merge(base, local, remote):
    """Rule 1, per flag."""
    return frozenset((base & local & remote) | ((local | remote) - base))


class Msg:
    """A message on one side: flags; orig: the message agreed at the last
    sync, still in its folder; src: (folder id, message id) of the agreed
    message a local move or copy made this one from, else None."""
    __slots__ = ("flags", "orig", "src")

    def __init__(self, flags, orig=False, src=None):
        self.flags = frozenset(flags)
        self.orig = orig
        self.src = src


class Folder:
    def __init__(self, name, msgs=None, reset=False):
        self.name = name
        self.msgs = msgs if msgs is not None else {}
        self.reset = reset      # renumbered upstream since the last sync

    def copy(self):
        return Folder(self.name, {k: Msg(m.flags, m.orig, m.src)
                                  for k, m in self.msgs.items()}, self.reset)


def message_bytes(mid):
    """The bytes of message mid (unique, a few hundred bytes to 3 KB)."""
    lines = "".join("line %d of message %d, with some text to fill it\r\n"
                    % (i, mid) for i in range(1 + (mid * 7) % 50))
    date = email.utils.formatdate(DATE0 + mid * 60, usegmt=True)
    return ("From: h%d@example.org\r\nTo: alice@example.org\r\n"
            "Message-ID: <m%d@history>\r\nSubject: history %d\r\n"
            "Date: %s\r\n\r\n%s" % (mid, mid, mid, date, lines)).encode()


def msgid_of(mid):
    return "<m%d@history>" % mid


MID_RE = re.compile(rb"Message-ID: <m(\d+)@history>", re.I)
FETCH_RE = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)|"
                      rb"INTERNALDATE \"([^\"]+)\"")
LIST_RE = re.compile(r'\((.*?)\) (NIL|"(.)") (.*)$')


def imap_date(mid):
    return imaplib.Time2Internaldate(DATE0 + mid * 60)


def quote(name):
    return '"%s"' % name


def flagstr(flags):
    return "(%s)" % " ".join(sorted(flags))


class Side:
    """One side over IMAP: the store through `mailvault serve`, or the
    server. name(local) is the side's name of a local folder name."""

    def __init__(self, label, connect, name=lambda n: n):
        self.label = label
        self.connect = connect
        self.name = name
        self.m = None

    def conn(self):
        if self.m is None:
            self.m = self.connect()
        return self.m

    def close(self):
        if self.m is not None:
            try:
                self.m.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
            self.m = None

    def ok(self, what, res):
        typ, data = res
        if typ != "OK":
            raise AssertionError("%s: %s refused: %s" % (self.label, what,
                                                         data))
        return data

    def select(self, folder):
        self.ok("SELECT " + folder, self.conn().select(quote(
            self.name(folder))))

    def uid_of(self, folder, mid):
        self.select(folder)
        d = self.ok("SEARCH", self.conn().uid("SEARCH", "HEADER",
                                              "Message-ID", msgid_of(mid)))
        uids = d[0].split()
        if len(uids) != 1:
            raise AssertionError("%s: %d messages %d in %s" % (
                self.label, len(uids), mid, folder))
        return uids[0].decode()

    def append(self, folder, mid, flags):
        self.ok("APPEND", self.conn().append(
            quote(self.name(folder)), flagstr(flags), imap_date(mid),
            message_bytes(mid)))

    def set_flags(self, folder, mid, flags):
        uid = self.uid_of(folder, mid)
        self.ok("STORE", self.conn().uid("STORE", uid, "FLAGS",
                                         flagstr(flags)))

    def expunge(self, folder, mid):
        uid = self.uid_of(folder, mid)
        m = self.conn()
        self.ok("STORE", m.uid("STORE", uid, "+FLAGS", "(\\Deleted)"))
        self.ok("UID EXPUNGE", m.uid("EXPUNGE", uid))

    def move(self, folder, mid, dest, copy=False):
        uid = self.uid_of(folder, mid)
        self.ok("COPY" if copy else "MOVE", self.conn().uid(
            "COPY" if copy else "MOVE", uid, quote(self.name(dest))))

    def create(self, folder):
        self.ok("CREATE", self.conn().create(quote(self.name(folder))))

    def rename(self, folder, to):
        m = self.conn()
        m.select("INBOX")
        self.ok("RENAME", m.rename(quote(self.name(folder)),
                                   quote(self.name(to))))

    def delete(self, folder):
        m = self.conn()
        m.select("INBOX")
        self.ok("DELETE", m.delete(quote(self.name(folder))))

    def folders(self, local_name):
        """{local name: side name} of every selectable folder."""
        typ, data = self.conn().list('""', "*")
        out = {}
        for line in data:
            if line is None:
                continue
            if isinstance(line, tuple):
                line = line[0] + line[1]
            mm = LIST_RE.match(line.decode())
            if "\\noselect" in mm.group(1).lower() or \
                    "\\nonexistent" in mm.group(1).lower():
                continue
            name = mm.group(4).strip('"')
            ln = local_name(name)
            if ln is not None:
                out[ln] = name
        return out

    def state(self, local_name):
        """{folder: {mid: (flags, internaldate, bytes ok)}}; a message
        twice in a folder is an error."""
        m = self.conn()
        out = {}
        for ln, name in sorted(self.folders(local_name).items()):
            self.ok("EXAMINE " + name, m.select(quote(name), readonly=True))
            typ, data = m.uid("FETCH", "1:*",
                              "(UID FLAGS INTERNALDATE BODY.PEEK[])")
            msgs = {}
            for item in data:
                if not isinstance(item, tuple):
                    continue
                meta, body = item
                flags = date = None
                for g in FETCH_RE.finditer(meta):
                    if g.group(2) is not None:
                        flags = g.group(2).decode()
                    if g.group(3):
                        date = g.group(3)
                mm = MID_RE.search(body)
                if mm is None:
                    raise AssertionError("%s: a message that is not ours in "
                                         "%s" % (self.label, ln))
                mid = int(mm.group(1))
                if mid in msgs:
                    raise AssertionError("%s: message %d twice in %s" % (
                        self.label, mid, ln))
                t = time.mktime(imaplib.Internaldate2tuple(
                    b'INTERNALDATE "' + date + b'"'))
                fl = frozenset(f for f in flags.split() if f != "\\Recent")
                msgs[mid] = (fl, int(t), body == message_bytes(mid))
            out[ln] = msgs
        m.select("INBOX")
        return out


class Model:
    """The agreed state and both sides (see the top of the file)."""

    def __init__(self):
        self.agreed = {0: Folder("INBOX")}
        self.local = {0: Folder("INBOX")}
        self.remote = {0: Folder("INBOX")}
        self.next_fid = 1
        self.next_mid = 1
        self.next_name = 1

    def fid(self):
        self.next_fid += 1
        return self.next_fid - 1

    def mid(self):
        self.next_mid += 1
        return self.next_mid - 1

    def name(self):
        self.next_name += 1
        return "F%d" % (self.next_name - 1)

    # ---- the oracle ----

    def followed(self, fid, R):
        """Rule 5: a remote rename of fid is followed."""
        a, lf, rf = self.agreed[fid], self.local.get(fid), R[fid]
        if lf is None or rf.reset:
            return False
        return any(mid in lf.msgs and lf.msgs[mid].orig and
                   mid in rf.msgs and rf.msgs[mid].orig for mid in a.msgs)

    def resolve(self, m, R):
        """Rule 4: the flags of a local message new since the last sync."""
        if m.src is None:
            return m.flags
        g, mid = m.src
        lg, rg = self.local.get(g), R.get(g)
        if lg is None or rg is None or rg.reset:
            return m.flags
        if mid in lg.msgs and lg.msgs[mid].orig:
            return m.flags      # a copy: the source stays
        rm = rg.msgs.get(mid)
        if rm is None or not rm.orig:
            return m.flags      # gone upstream: appended
        return merge(self.agreed[g].msgs[mid].flags, m.flags, rm.flags)

    def merge_folder(self, fid, lf, rf, R):
        """Rules 1-4 and 7 for a folder on both sides."""
        a = self.agreed.get(fid)
        out = {}
        taken = set()
        if a is not None:
            for mid, am in a.msgs.items():
                lm = lf.msgs.get(mid)
                lm = lm if lm is not None and lm.orig else None
                rm = rf.msgs.get(mid)
                if rf.reset and rm is not None:
                    taken.add(mid)      # matched again by Message-ID
                elif rm is not None and not rm.orig:
                    rm = None
                if lm is not None and rm is not None:
                    out[mid] = merge(am.flags, lm.flags, rm.flags)
                elif rf.reset and (lm or rm):
                    out[mid] = (lm or rm).flags
        newl = {k: m for k, m in lf.msgs.items() if not m.orig}
        newr = {k: m for k, m in rf.msgs.items()
                if not m.orig and k not in taken}
        for mid, m in newl.items():
            if mid in newr:
                out[mid] = m.flags | newr[mid].flags
            else:
                out[mid] = self.resolve(m, R)
        for mid, m in newr.items():
            if mid not in newl:
                out[mid] = m.flags
        return out

    def expected(self, unfollowed=()):
        """{folder id: Folder} both sides must hold after the sync; the
        remote renames of the folders unfollowed are not followed."""
        A, L = self.agreed, self.local
        R = {k: f.copy() for k, f in self.remote.items()}
        for fid in list(R):
            if fid in A and R[fid].name != A[fid].name and \
                    (fid in unfollowed or not self.followed(fid, R)):
                f = R.pop(fid)
                R[self.fid()] = Folder(f.name, {k: Msg(m.flags) for k, m in
                                                f.msgs.items()})
        E = {}
        for fid in sorted(set(A) | set(L) | set(R)):
            a, lf, rf = A.get(fid), L.get(fid), R.get(fid)
            if a is not None and lf is not None and rf is not None:
                name = rf.name if rf.name != a.name else lf.name
                E[fid] = (name, self.merge_folder(fid, lf, rf, R))
                continue
            if lf is not None and rf is None:
                msgs = {k: self.resolve(m, R) for k, m in lf.msgs.items()
                        if a is None or not m.orig}
                if a is None or msgs:
                    E[fid] = (lf.name, msgs)
            if rf is not None and lf is None:
                msgs = {k: m.flags for k, m in rf.msgs.items()
                        if a is None or rf.reset or not m.orig}
                if a is None or msgs:
                    E[fid] = (rf.name, msgs)
        return {fid: Folder(name, {k: Msg(fl, True) for k, fl in
                                   msgs.items()}) for fid, (name, msgs) in
                E.items()}

    def renamed_upstream(self):
        """{folder id: remote name} of the remote renames since the last
        sync that rule 5 follows."""
        return {fid: f.name for fid, f in self.remote.items()
                if fid in self.agreed and f.name != self.agreed[fid].name
                and self.followed(fid, self.remote)}

    def new_upstream(self):
        return [f.name for fid, f in self.remote.items()
                if fid not in self.agreed]

    def agree(self, E):
        self.agreed = E
        self.local = {k: f.copy() for k, f in E.items()}
        self.remote = {k: f.copy() for k, f in E.items()}

    def by_name(self, side):
        return {f.name: fid for fid, f in side.items()}


class History:
    """Random operations on a store and a server, synced and checked.

    local: mvlocal.Local with an account "acc" whose upstream is reached
    through proxy (faultproxy.FaultProxy); remote: a Side on the server;
    reset(folder) renumbers a server folder (a new UIDVALIDITY)."""

    def __init__(self, rng, local, remote, reset, proxy, label,
                 local_name):
        self.rng = rng
        self.local = local
        self.remote = remote
        self.reset = reset
        self.proxy = proxy
        self.label = label
        self.local_name = local_name
        self.here = Side("here", lambda: local.imap("acc"))
        self.model = Model()
        self.story = []
        self.counts = {}
        self.syncs = self.cuts = self.kills = 0
        self.last_bytes = 20000
        self.env = dict(local.env)
        self.env["XDG_RUNTIME_DIR"] = os.path.join(local.dir, "run-sync")
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

    def say(self, what):
        self.story.append(what)

    # ---- choosing ----

    def pick_folder(self, side, *, not_inbox=False, room=False):
        v = [fid for fid, f in side.items()
             if not (not_inbox and fid == 0) and
             not (room and len(f.msgs) >= MAX_FOLDER)]
        return self.rng.choice(sorted(v)) if v else None

    def pick_msg(self, side, fid, movable=False):
        f = side[fid]
        v = sorted(f.msgs)
        if movable:
            v = [k for k in v if self.movable(fid, k)]
        return self.rng.choice(v) if v else None

    def movable(self, fid, mid):
        """A local move or copy the model can follow (see the top)."""
        m = self.model.local[fid].msgs[mid]
        if m.src is not None:
            return False
        if not m.orig:
            return True
        if sum(mid in f.msgs for f in self.model.agreed.values()) != 1:
            return False
        return not any(x.src == (fid, mid) for f in
                       self.model.local.values() for x in f.msgs.values())

    def random_flags(self):
        return frozenset(f for f in ALL_FLAGS if self.rng.random() < 0.3)

    # ---- operations, on one side and its model ----

    def op_append(self, who, side, io):
        fid = self.pick_folder(side, room=True)
        if fid is None:
            return False
        mid, fl = self.model.mid(), self.random_flags()
        io.append(side[fid].name, mid, fl)
        side[fid].msgs[mid] = Msg(fl)
        self.say("%s: append m%d to %s %s" % (who, mid, side[fid].name,
                                             sorted(fl)))
        return True

    def op_flags(self, who, side, io):
        fid = self.pick_folder(side)
        mid = self.pick_msg(side, fid)
        if mid is None:
            return False
        m = side[fid].msgs[mid]
        fl = set(m.flags)
        for f in self.rng.sample(ALL_FLAGS, self.rng.randint(1, 3)):
            fl ^= {f}
        io.set_flags(side[fid].name, mid, fl)
        m.flags = frozenset(fl)
        self.say("%s: flags of m%d in %s now %s" % (who, mid, side[fid].name,
                                                   sorted(fl)))
        return True

    def op_expunge(self, who, side, io):
        fid = self.pick_folder(side)
        mid = self.pick_msg(side, fid)
        if mid is None:
            return False
        io.expunge(side[fid].name, mid)
        del side[fid].msgs[mid]
        self.say("%s: expunge m%d in %s" % (who, mid, side[fid].name))
        return True

    def op_move(self, who, side, io, copy=False):
        fid = self.pick_folder(side)
        mid = self.pick_msg(side, fid, movable=side is self.model.local)
        if mid is None:
            return False
        dests = [g for g, f in side.items() if g != fid and
                 mid not in f.msgs and len(f.msgs) < MAX_FOLDER]
        if not dests:
            return False
        dest = self.rng.choice(sorted(dests))
        m = side[fid].msgs[mid]
        io.move(side[fid].name, mid, side[dest].name, copy=copy)
        src = None
        if side is self.model.local:
            src = (fid, mid) if m.orig else None
        side[dest].msgs[mid] = Msg(m.flags, False, src)
        if not copy:
            del side[fid].msgs[mid]
        self.say("%s: %s m%d from %s to %s" % (
            who, "copy" if copy else "move", mid, side[fid].name,
            side[dest].name))
        return True

    def op_copy(self, who, side, io):
        return self.op_move(who, side, io, copy=True)

    def op_create(self, who, side, io):
        if len(side) >= MAX_FOLDERS:
            return False
        name = self.model.name()
        io.create(name)
        side[self.model.fid()] = Folder(name)
        self.say("%s: create %s" % (who, name))
        return True

    def op_rename(self, who, side, io):
        fid = self.pick_folder(side, not_inbox=True)
        if fid is None:
            return False
        name, old = self.model.name(), side[fid].name
        io.rename(old, name)
        side[fid].name = name
        self.say("%s: rename %s to %s" % (who, old, name))
        return True

    def op_delete(self, who, side, io):
        fid = self.pick_folder(side, not_inbox=True)
        if fid is None or len(side) <= 2:
            return False
        name = side[fid].name
        io.delete(name)
        del side[fid]
        self.say("%s: delete %s" % (who, name))
        return True

    def op_reset(self, who, side, io):
        fid = self.pick_folder(side, not_inbox=True)
        if fid is None:
            return False
        how = self.reset(side[fid].name)
        side[fid].reset = True
        self.say("%s: renumber %s (%s)" % (who, side[fid].name, how))
        return True

    OPS = (("append", 10), ("flags", 12), ("expunge", 5), ("move", 5),
           ("copy", 2), ("create", 2), ("rename", 2), ("delete", 1.5))

    def step(self):
        local = self.rng.random() < 0.5
        ops = list(self.OPS) + ([] if local else [("reset", 1)])
        while True:
            kind = self.rng.choices([o for o, _ in ops],
                                    [w for _, w in ops])[0]
            who, side, io = ("here", self.model.local, self.here) if local \
                else ("there", self.model.remote, self.remote)
            if getattr(self, "op_" + kind)(who, side, io):
                key = who + " " + kind
                self.counts[key] = self.counts.get(key, 0) + 1
                return

    # ---- syncing ----

    def mv_sync(self, cut=None, kill=False):
        """One `mailvault sync`; cut: None or ("up"/"down", bytes)."""
        proc = {}

        def killer():
            p = proc.get("p")
            if p is not None:
                os.kill(p.pid, signal.SIGKILL)

        self.proxy.unplan()
        self.proxy.on_cut = killer if kill else None
        if cut is not None:
            self.proxy.plan(cut)
        before = len(self.proxy.sent)
        proc["p"] = p = subprocess.Popen(
            [MV, "--json", "sync", "acc"], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=120)
        self.proxy.unplan()
        self.proxy.on_cut = None
        nbytes = sum(len(self.proxy.sent[i]) + len(self.proxy.received[i])
                     for i in range(before, len(self.proxy.sent)))
        return p.returncode, out, err, nbytes

    def sync(self):
        self.here.close()
        self.remote.close()
        r = self.rng.random()
        kind = "cut" if r < 0.15 else "kill" if r < 0.3 else "plain"
        outs = []
        if kind != "plain":
            way = self.rng.choice(("up", "down"))
            n = self.rng.randint(1, max(2, self.last_bytes))
            rc, out, err, _ = self.mv_sync((way, n), kill=kind == "kill")
            self.say("sync, %s at byte %d %s: exit %d%s" % (
                kind, n, way, rc, self.logged(err)))
            outs.append(err)
            if rc != 0:
                self.cuts += kind == "cut"
                self.kills += kind == "kill"
        rc, out, err, nbytes = self.mv_sync()
        outs.append(err)
        self.syncs += 1
        if rc != 0:
            raise AssertionError(self.report("the sync failed (%d): %s%s" %
                                             (rc, out, err)))
        self.last_bytes = max(nbytes, 2000)
        self.say("sync: %s%s" % (out.strip().splitlines()[-1][:200],
                                 self.logged(err)))
        self.check("\n".join(outs))

    @staticmethod
    def logged(err):
        lines = [x for x in err.splitlines() if x.strip()]
        return "".join("\n      | " + x for x in lines)

    # ---- checking ----

    def ambiguous(self):
        """Remote renames the engine may rightly not follow: Cyrus gives
        folders made in the same second one UIDVALIDITY, so one made
        upstream since the last sync can share the renamed folder's, and
        when it holds copies of the same messages under the same UIDs the
        engine cannot tell which is the renamed one (sync/engine.c,
        renamed_to()). Asked of the server, not guessed."""
        renamed = self.model.renamed_upstream()
        new = self.model.new_upstream()
        if not renamed or not new:
            return set()
        m = self.remote.conn()
        uv = {}
        for name in list(renamed.values()) + new:
            typ, d = m.status(quote(self.remote.name(name)), "(UIDVALIDITY)")
            if typ == "OK":
                uv[name] = d[0].split(b"UIDVALIDITY")[1].strip(b" )")
        return {fid for fid, name in renamed.items() if name in uv and any(
            uv.get(n) == uv[name] for n in new)}

    def compare(self, E, here, there):
        want = {f.name: {k: m.flags for k, m in f.msgs.items()}
                for f in E.values()}
        problems = []
        for label, got in (("here", here), ("upstream", there)):
            problems += self.diff(label, want, got)
        return problems

    def check(self, log):
        E = self.model.expected()
        here = self.here.state(lambda n: n)
        there = self.remote.state(self.local_name)
        problems = self.compare(E, here, there)
        if problems and self.ambiguous():
            E2 = self.model.expected(self.ambiguous())
            if not self.compare(E2, here, there):
                self.say("(a rename upstream not followed: its folder "
                         "shares its UIDVALIDITY with a new one)")
                E, problems = E2, []
        if problems:
            raise AssertionError(self.report("after sync %d:\n  %s\n"
                                             "sync's log:\n%s" % (
                                                 self.syncs,
                                                 "\n  ".join(problems),
                                                 log)))
        self.model.agree(E)
        self.story = self.story[-60:]

    @staticmethod
    def diff(label, want, got):
        out = []
        for name in sorted(set(want) | set(got)):
            if name not in got:
                out.append("%s: folder %s missing (want %s)" % (
                    label, name, sorted(want[name])))
                continue
            if name not in want:
                out.append("%s: folder %s should not be there (has %s)" %
                           (label, name, sorted(got[name])))
                continue
            w, g = want[name], got[name]
            for mid in sorted(set(w) | set(g)):
                if mid not in g:
                    out.append("%s: %s lacks m%d %s" % (label, name, mid,
                                                        sorted(w[mid])))
                elif mid not in w:
                    out.append("%s: %s has m%d %s, which should be gone" % (
                        label, name, mid, sorted(g[mid][0])))
                else:
                    fl, date, same = g[mid]
                    if fl != w[mid]:
                        out.append("%s: %s m%d flags %s, want %s" % (
                            label, name, mid, sorted(fl), sorted(w[mid])))
                    if date != DATE0 + mid * 60:
                        out.append("%s: %s m%d internal date %d" % (
                            label, name, mid, date))
                    if not same:
                        out.append("%s: %s m%d bytes differ" % (
                            label, name, mid))
        return out

    def report(self, what):
        return "%s (%s)\nwhat happened, last first:\n  %s" % (
            what, self.label, "\n  ".join(reversed(self.story[-60:])))

    def run(self, steps):
        """steps operations, a sync every 1 to 6 of them, and one at the
        end; returns a summary line."""
        t0 = time.time()
        due = self.rng.randint(1, 6)
        for i in range(steps):
            self.step()
            due -= 1
            if due == 0:
                self.sync()
                due = self.rng.randint(1, 6)
        self.sync()
        self.here.close()
        self.remote.close()
        return "%s: %d steps, %d syncs (%d cut, %d killed), %.1f s" % (
            self.label, steps, self.syncs, self.cuts, self.kills,
            time.time() - t0)


def summary_counts(h):
    return ", ".join("%s %d" % kv for kv in sorted(h.counts.items()))


def parse_json_line(out):
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None
