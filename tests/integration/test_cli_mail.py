"""Integration: mail managed from the CLI (`mailbox create|rename|delete`,
`mv`, `cp`, `rm`, `flag`), by UID set or by an IMAP SEARCH query.

Two setups. A served store with the test corpus: IMAP clients idling on
a mailbox are told at once what the CLI (another process) did (EXPUNGE,
EXISTS, FETCH FLAGS), LIST shows the CLI's mailboxes, `--search` picks
exactly the messages the IMAP server's own UID SEARCH gives, and wrong
input gets a sentence and a non-zero exit. A store syncing from a private
Dovecot: flags set, messages moved and removed and a mailbox made and
renamed from the CLI are on the upstream after the next sync (and
`account show` gives the last sync as a date, "just now").
"""
import imaplib
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from imaptest import NCORPUS, Server                       # noqa: E402
from mvtest import wait_for                                # noqa: E402
from runner import expect, run_tests, stop_at_end          # noqa: E402
from upstream import Env, compare, local_uids                       # noqa: E402

srv = stop_at_end(Server())
WAIT = 20   # seconds: a bound for a hung server, not a speed requirement


class Idler:
    """A raw IMAP connection idling on a mailbox, collecting untagged
    lines."""

    def __init__(self, mailbox):
        self.r = srv.raw()
        self.r.ok("SELECT %s" % mailbox)
        self.r.send("idle IDLE\r\n")
        line = self.r.line()
        expect(line == "+ idling", "IDLE was not accepted: %r" % line)
        self.seen = []

    def wait(self, pred, what):
        """Read until an untagged line satisfies pred; that line."""
        self.r.sock.settimeout(0.2)
        deadline = time.time() + WAIT
        try:
            while time.time() < deadline:
                for line in self.seen:
                    if pred(line):
                        self.seen.remove(line)
                        return line
                try:
                    self.seen.append(self.r.line())
                except socket.timeout:
                    continue
        finally:
            self.r.sock.settimeout(30)
        raise AssertionError("the idling client never heard of %s; it "
                             "got %r" % (what, self.seen))

    def close(self):
        self.r.send("DONE\r\n")
        self.r.until("idle")
        self.r.close()


def uid_search(mailbox, query):
    c = srv.connect()
    try:
        c.select(mailbox, readonly=True)
        typ, data = c.uid("SEARCH", query)
        expect(typ == "OK", "UID SEARCH %s: %r" % (query, data))
        return [int(x) for x in data[0].split()]
    finally:
        c.logout()


def flags_of(mailbox, uid):
    c = srv.connect()
    try:
        c.select(mailbox, readonly=True)
        typ, data = c.uid("FETCH", str(uid), "(FLAGS)")
        return re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode()
    finally:
        c.logout()


def test_mailbox_create_rename_delete_seen_by_imap():
    srv.mv("mailbox", "create", "demo/Projects/2026")
    c = srv.connect()
    names = [l.decode() for l in c.list()[1]]
    expect(any(n.endswith('"Projects/2026"') or n.endswith(" Projects/2026")
               for n in names), "LIST does not show the new mailbox: %r"
           % names)
    srv.mv("mailbox", "rename", "demo/Projects", "demo/Work")
    names = " ".join(l.decode() for l in c.list()[1])
    expect("Work/2026" in names and "Projects" not in names,
           "LIST after the rename: %s" % names)
    srv.mv("mailbox", "delete", "demo/Work/2026")
    names = " ".join(l.decode() for l in c.list()[1])
    expect("Work/2026" not in names, "LIST after the delete: %s" % names)
    c.logout()
    srv.fails("creating it twice", "mailbox", "create", "demo/Work")
    srv.fails("renaming INBOX", "mailbox", "rename", "demo/INBOX",
              "demo/Old")
    srv.fails("deleting INBOX", "mailbox", "delete", "demo/INBOX")
    srv.fails("renaming into another account", "mailbox", "rename",
              "demo/Work", "other/Work")
    srv.fails("a mailbox that is not there", "mailbox", "delete",
              "demo/Nowhere")


def test_mv_wakes_idling_clients_on_both_mailboxes():
    srv.mv("mailbox", "create", "demo/Archive")
    src = Idler("INBOX")
    dst = Idler("Archive")
    p = srv.mv("mv", "demo/INBOX", "2:3", "demo/Archive")
    expect(re.search(r"Moved 2 messages .* now 1:2", p.stdout),
           "no summary naming the new UIDs: %r" % p.stdout)
    src.wait(lambda l: l == "* 2 EXPUNGE", "the first move")
    src.wait(lambda l: l == "* 2 EXPUNGE", "the second move")
    dst.wait(lambda l: l == "* 2 EXISTS", "the moved messages arriving")
    src.close()
    dst.close()
    expect(uid_search("INBOX", "UID 2:3") == [],
           "the moved messages are still in INBOX")
    expect(uid_search("Archive", "ALL") == [1, 2],
           "Archive does not hold the two moved messages")


def test_flag_is_seen_live_and_sets_keywords():
    idle = Idler("INBOX")
    srv.mv("flag", "demo/INBOX", "5", "+Flagged", "+seen", "+$Label1")
    line = idle.wait(lambda l: " FETCH " in l, "the flag change")
    expect(re.match(r"\* \d+ FETCH \(.*FLAGS \(", line) and "\\Flagged" in
           line and "\\Seen" in line and "$Label1" in line,
           "the FETCH does not carry the new flags: %r" % line)
    srv.mv("flag", "demo/INBOX", "5", "-Flagged", "-$Label1")
    line = idle.wait(lambda l: " FETCH " in l, "the flag removal")
    expect("\\Flagged" not in line and "$Label1" not in line and
           "\\Seen" in line, "the flags after removal: %r" % line)
    idle.close()


def test_rm_expunges_and_cp_copies():
    idle = Idler("INBOX")
    srv.mv("rm", "demo/INBOX", "6")
    idle.wait(lambda l: l.endswith(" EXPUNGE"), "the removal")
    idle.close()
    expect(uid_search("INBOX", "UID 6") == [], "UID 6 is still there")
    srv.mv("cp", "demo/INBOX", "7,8", "demo/Archive")
    expect(uid_search("INBOX", "UID 7:8") == [7, 8],
           "a copy took the messages away")
    expect(len(uid_search("Archive", "ALL")) == 4, "Archive did not get "
           "the copies")


def test_search_picks_what_imap_search_picks():
    for query in ('FROM "harriet"', "SUBJECT planning",
                  'OR BODY "Kintsugi" SMALLER 700', "NOT SEEN LARGER 1200"):
        want = uid_search("INBOX", query)
        p = srv.mv("--json", "rm", "demo/INBOX", "--search", query,
                   "--dry-run")
        got = json.loads(p.stdout)
        expect(got["dry_run"] and got["removed"] == len(want),
               "%s: the CLI would remove %r, IMAP finds %r" % (
                   query, got, want))
    query = "OR SUBJECT Ranunculus SUBJECT Yurt"
    want = uid_search("INBOX", query)
    expect(want, "the corpus has no message for %r" % query)
    srv.mv("flag", "demo/INBOX", "--search", query, "+Answered")
    expect(uid_search("INBOX", "ANSWERED") == want,
           "flag --search did not set exactly the searched messages")
    srv.mv("mv", "demo/INBOX", "--search", query, "demo/Archive")
    expect(uid_search("INBOX", query) == [], "mv --search left some")
    p = srv.mv("rm", "demo/INBOX", "--search", query)
    expect("No message" in p.stdout, "an empty search is no error, but "
           "should say so: %r" % p.stdout)


def test_wrong_input_is_a_sentence():
    srv.fails("a UID set that is no set", "rm", "demo/INBOX", "1:x")
    srv.fails("UIDs that are not there", "rm", "demo/INBOX", "90000:90010")
    srv.fails("a query that is not IMAP SEARCH", "rm", "demo/INBOX",
              "--search", "FROM")
    srv.fails("no destination", "mv", "demo/INBOX", "1")
    srv.fails("a destination without an account", "mv", "demo/INBOX", "1",
              "Archive")
    srv.fails("a destination that is not there", "mv", "demo/INBOX", "1",
              "demo/Nowhere")
    srv.fails("the same mailbox", "mv", "demo/INBOX", "1", "demo/INBOX")
    srv.fails("nothing to change", "flag", "demo/INBOX", "1")
    srv.fails("an unknown system flag", "flag", "demo/INBOX", "1", "+\\Foo")
    srv.fails("an account that is not there", "rm", "nobody/INBOX", "1")
    expect(len(uid_search("INBOX", "ALL")) > NCORPUS // 2,
           "a failed command changed the mailbox")


# ---- the same changes reach an upstream through sync ----

up = stop_at_end(Env("up"))
up.populate({"INBOX": 12})
up.add_imap()


def remote_state(folder):
    """{uid: flags} of a Dovecot folder."""
    r = up.remote()
    try:
        typ, _ = r.select('"%s"' % folder, readonly=True)
        if typ != "OK":
            return None
        typ, data = r.uid("FETCH", "1:*", "(FLAGS)")
        out = {}
        for d in data:
            if d is None:
                continue
            s = d.decode() if isinstance(d, bytes) else d[0].decode()
            m = re.search(r"UID (\d+).*FLAGS \(([^)]*)\)", s)
            if m:
                out[int(m.group(1))] = m.group(2)
        return out
    finally:
        r.logout()


def test_cli_changes_are_pushed_upstream():
    up.sync("acc")
    expect(len(remote_state("INBOX")) == 12, "the first sync")
    # account show: the last sync as a date and how long ago, and no
    # empty last-error line after a good run
    shown = up.mv("account", "show", "acc").stdout
    expect(re.search(r"^last-sync: \d{4}-\d\d-\d\d \d\d:\d\d \S+ "
                     r"\((just now|\d+ minutes? ago)\)$", shown, re.M),
           "account show gives last-sync as: %r" % shown)
    expect("last-error" not in shown, "an empty last-error line: %r"
           % shown)
    local = json.loads(up.mv("--json", "ls", "acc/INBOX").stdout)
    plain = [m["uid"] for m in local if m["flags"][2] == "-"]
    expect(len(plain) >= 4, "too few unflagged messages to work with")
    up.mv("flag", "acc/INBOX", str(plain[0]), "+Flagged")
    up.mv("mailbox", "create", "acc/Kept")
    up.mv("mv", "acc/INBOX", "%d,%d" % (plain[1], plain[2]), "acc/Kept")
    up.mv("rm", "acc/INBOX", str(plain[3]))
    up.sync("acc")
    # Both sides alike, byte for byte with flags, folder by folder.
    compare(up)
    after = remote_state("INBOX")
    expect(len(after) == 9, "upstream INBOX has %d messages, want 9 (two "
           "moved, one removed)" % len(after))
    expect(sum("\\Flagged" in f for f in after.values()) ==
           sum(m["flags"][2] == "F" for m in local) + 1,
           "the flag did not reach the upstream: %r" % after)
    kept = remote_state("Kept")
    expect(kept is not None and len(kept) == 2,
           "upstream Kept holds %r, want the two moved messages" % kept)
    up.mv("mailbox", "rename", "acc/Kept", "acc/Keep")
    up.sync("acc")
    expect(remote_state("Keep") is not None and remote_state("Kept") is None,
           "the rename did not reach the upstream")
    expect(local_uids(up, "Keep") == [1, 2], "the local mailbox lost its "
           "messages in the rename")
    compare(up)


run_tests(globals())
