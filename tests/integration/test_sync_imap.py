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

Env, compare() and the other helpers are in tests/lib/upstream.py.
"""
import imaplib
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import scale                                   # noqa: E402
from runner import expect, run_tests, stop_at_end          # noqa: E402
from upstream import Env, compare, local_uids              # noqa: E402

# Dovecot without CONDSTORE/QRESYNC: the capability list after login.
NO_CONDSTORE = """protocol imap {
  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
LITERAL+ UIDPLUS MOVE NAMESPACE UNSELECT CHILDREN
}
"""

env = stop_at_end(Env("imap"))
counts = {"INBOX": scale(1500), "Archive": scale(800),
          "Work/Projects": scale(400), "Sent": scale(300)}
env.populate(counts)
env.add_imap()


def test_initial_sync_is_byte_exact_with_flags_and_dates():
    """The initial sync of a few thousand messages in four folders."""
    p = env.sync("acc")
    expect("acc" in p.stdout + p.stderr, "no summary line")
    n = compare(env)
    expect(n == sum(counts.values()), "%d messages, want %d" % (
        n, sum(counts.values())))


def test_a_second_sync_changes_nothing():
    p = env.sync("acc")
    expect(" 0 new" in p.stdout + p.stderr or "0 new" in p.stdout +
           p.stderr, "a no-change sync reported work: " + p.stdout)
    compare(env)


def test_remote_mail_flags_expunges_creates_and_renames_come_down():
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


def test_local_flags_expunges_create_append_and_copy_go_up():
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


def test_offline_changes_are_queued_while_dovecot_is_down_and_replayed():
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


def test_a_three_way_flag_conflict_merges_both_sides_changes():
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


def test_a_uidvalidity_reset_keeps_local_uids_without_duplicate_or_loss():
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


def test_folder_deletes_go_both_ways():
    r = env.remote()
    r.delete("Fresh")
    r.logout()
    loc = env.local()
    loc.delete('"Made Here"')
    loc.logout()
    env.sync("acc")
    compare(env)


def test_flags_and_expunges_both_ways_without_condstore():
    """The same flag traffic on a Dovecot that offers no CONDSTORE."""
    env2 = stop_at_end(Env("nocondstore", extra_conf=NO_CONDSTORE))
    env2.populate({"INBOX": scale(300), "Other": scale(100)}, seed=7)
    env2.add_imap()
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


run_tests(globals())
