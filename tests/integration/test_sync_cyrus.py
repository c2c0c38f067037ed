"""Integration: `mailvault sync` against a real Cyrus IMAP 3.6.

Cyrus is not Dovecot: it gives folders made in the same second the same
UIDVALIDITY, and with its usual namespace (altnamespace off) personal
folders live under "INBOX." and a top-level CREATE is refused. Shown,
each against a Cyrus of its own user:

 - a folder deleted upstream beside one renamed upstream, both with the
   same UIDVALIDITY: the delete stays a delete and the rename a rename
   (no local folder takes the other's messages, no flag change goes to
   the wrong upstream message);
 - a folder made locally at the top level goes up inside the server's
   personal namespace (Work is INBOX.Work) and its only message is never
   deleted;
 - an upstream flag change on a message moved locally before the sync
   reaches the moved copy here;
 - a folder deleted upstream keeps the message made here since the last
   sync (its only copy), and is made upstream again for it;
 - the whole round (mvlocal.round_trip: initial sync, flags, expunges,
   appends, a move, folder create/rename/delete both ways, a flag
   conflict, UIDVALIDITY resets) under all four combinations of
   altnamespace and unixhierarchysep, both sides compared message by
   message after each sync.

The sync speaks plain IMAP to Cyrus on loopback (--tls none).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from cyrus import Cyrus                                    # noqa: E402
from mvlocal import (Case, expect, flags_of, message,      # noqa: E402
                     message_uid, msgid, quote, round_trip)
from runner import run_tests, stop_at_end                  # noqa: E402

TESTDIR = os.environ.get("TESTDIR") or os.getcwd()
CYRUS = Cyrus(os.path.join(TESTDIR, "cyrus"), user="setup").start()
# Folder names without a prefix: the same here and there, so a test
# reads the same against an engine with or without namespace mapping.
ALT = Cyrus(os.path.join(TESTDIR, "cyrus-alt"), user="setup",
            altnamespace=True).start()
SERVERS = [CYRUS, ALT]
counter = [0]


def case(cy):
    counter[0] += 1
    user = "u%d" % counter[0]
    c = Case(cy, user, os.path.join(TESTDIR, "store-" + user))
    stop_at_end(c.local)    # its `mailvault serve`
    return c


def uidvalidity(m, name):
    typ, d = m.status(quote(name), "(UIDVALIDITY)")
    expect(typ == "OK", "STATUS %s: %s" % (name, d))
    return int(d[0].decode().split("UIDVALIDITY")[1].strip(" )"))


def test_a_deleted_folder_is_not_taken_for_a_renamed_one():
    c = case(ALT)
    r = c.remote()
    # Cyrus gives folders made in the same second the same UIDVALIDITY;
    # try a few pairs in case a second boundary falls between two.
    for n in range(5):
        a, b = "Aaa%d" % n, "Bbb%d" % n
        r.create(quote(c.up.name(a)))
        r.create(quote(c.up.name(b)))
        if uidvalidity(r, c.up.name(a)) == uidvalidity(r, c.up.name(b)):
            break
    else:
        raise AssertionError("no two folders with one UIDVALIDITY")
    r.logout()
    for i in range(3):
        c.append(a, i)
        c.append(b, 10 + i)
    c.sync()
    c.compare()
    r = c.remote()
    r.delete(quote(c.up.name(a)))
    typ, d = r.rename(quote(c.up.name(b)), quote(c.up.name("Ccc")))
    expect(typ == "OK", "RENAME refused: %s" % d)
    r.logout()
    summary, out = c.sync()
    expect("renamed upstream to Ccc" not in out.split(b + ":")[0],
           "the deleted folder was taken for the renamed one:\n" + out)
    h = c.here()
    typ, _ = h.select(quote(a))
    expect(typ != "OK", "%s, deleted upstream, is still here" % a)
    h.logout()
    c.compare()
    # A flag set here must reach the same message upstream.
    h = c.here()
    uid = message_uid(h, "Ccc", msgid(11, b))
    h.uid("STORE", uid, "+FLAGS", "(\\Flagged)")
    h.logout()
    c.sync()
    r = c.remote()
    expect("\\Flagged" in flags_of(r, c.up.name("Ccc"), msgid(11, b)),
           "the flag did not reach its message upstream")
    for i in (10, 12):
        expect("\\Flagged" not in flags_of(r, c.up.name("Ccc"),
                                           msgid(i, b)),
               "a flag went to the wrong message upstream")
    r.logout()
    c.compare()


def test_a_top_level_local_folder_goes_into_the_personal_namespace():
    c = case(CYRUS)
    c.append("INBOX", 1)
    c.sync()
    h = c.here()
    typ, d = h.create("Work")
    expect(typ == "OK", "local CREATE refused: %s" % d)
    h.append("Work", "(\\Seen)", None, message(5, "Work"))
    h.logout()
    summary, out = c.sync()
    summary, out2 = c.sync()
    h = c.here()
    typ, d = h.select("Work")
    n = int(d[0]) if typ == "OK" else 0
    h.logout()
    expect(n == 1, "the local folder Work lost its only message (%s):\n%s"
           % (typ, out + out2))
    r = c.remote()
    typ, d = r.select(quote(c.up.name("Work")))
    r.logout()
    expect(typ == "OK" and int(d[0]) == 1, "Work is not upstream as %s" %
           c.up.name("Work"))
    c.compare()


def test_an_upstream_flag_change_reaches_a_locally_moved_message():
    c = case(ALT)
    r = c.remote()
    r.create(quote(c.up.name("Archive")))
    r.logout()
    for i in range(3):
        c.append("INBOX", i, "(\\Seen)")
    c.sync()
    h = c.here()
    uid = message_uid(h, "INBOX", msgid(1, "INBOX"))
    typ, d = h.uid("MOVE", uid, "Archive")
    expect(typ == "OK", "local MOVE refused: %s" % d)
    h.logout()
    r = c.remote()
    uid = message_uid(r, "INBOX", msgid(1, "INBOX"))
    r.uid("STORE", uid, "+FLAGS", "(\\Answered $RemoteX)")
    r.logout()
    c.sync()
    c.sync()
    h = c.here()
    fl = flags_of(h, "Archive", msgid(1, "INBOX"))
    h.logout()
    expect({"\\Answered", "$RemoteX", "\\Seen"} <= fl,
           "the moved message here lacks the upstream flags: %s" % fl)
    c.compare()


def test_a_folder_deleted_upstream_keeps_mail_made_here_since():
    c = case(ALT)
    r = c.remote()
    r.create("Proj")
    r.logout()
    c.append("Proj", 1)
    c.append("Proj", 2)
    c.sync()
    h = c.here()
    typ, d = h.append("Proj", "(\\Flagged)", None, message(3, "Proj"))
    h.logout()
    expect(typ == "OK", "local APPEND refused: %s" % d)
    r = c.remote()
    r.delete("Proj")
    r.logout()
    summary, out = c.sync()
    h = c.here()
    typ, d = h.select("Proj")
    n = int(d[0]) if typ == "OK" else 0
    h.logout()
    expect(n == 1, "Proj here has %d messages, want the one made here:\n%s"
           % (n, out))
    c.compare()


def test_a_round_trip_under_each_namespace_setting():
    for alt in (False, True):
        for unix in (False, True):
            cy = Cyrus(os.path.join(TESTDIR, "cyrus-%d%d" % (alt, unix)),
                       user="setup", altnamespace=alt,
                       unixhierarchysep=unix)
            cy.start()
            try:
                round_trip(case(cy))
            except Exception as e:
                raise AssertionError("altnamespace=%s unixhierarchysep=%s:"
                                     " %s" % (alt, unix, e)) from e
            finally:
                cy.stop()


if __name__ == "__main__":
    run_tests(globals(), SERVERS)
