"""CONDSTORE and QRESYNC (RFC 7162): HIGHESTMODSEQ at SELECT once enabled,
MODSEQ in STORE answers and in other sessions' flag updates, STORE
UNCHANGEDSINCE with [MODIFIED], STATUS HIGHESTMODSEQ, SEARCH MODSEQ,
expunges as VANISHED under QRESYNC, and a client resyncing with SELECT
(QRESYNC ...) and UID FETCH (CHANGEDSINCE ... VANISHED)."""
import re

from imaptest import Server, run_tests, status

srv = Server()


def hms(lines):
    for l in lines:
        m = re.match(r"\* OK \[HIGHESTMODSEQ (\d+)\]", l)
        if m:
            return int(m.group(1))
    raise AssertionError("no HIGHESTMODSEQ in %r" % lines)


def uidvalidity(lines):
    for l in lines:
        m = re.match(r"\* OK \[UIDVALIDITY (\d+)\]", l)
        if m:
            return int(m.group(1))
    raise AssertionError("no UIDVALIDITY")


def test_highestmodseq_only_after_enabling():
    r = srv.raw()
    lines = r.ok("SELECT INBOX")
    assert not any("HIGHESTMODSEQ" in l for l in lines), lines
    lines = r.ok("ENABLE CONDSTORE")
    assert lines[0].startswith("* OK [HIGHESTMODSEQ "), lines
    assert lines[1] == "* ENABLED CONDSTORE", lines
    lines = r.ok("SELECT INBOX")
    assert hms(lines) > 0
    r.close()
    r = srv.raw()
    assert hms(r.ok("SELECT INBOX (CONDSTORE)")) > 0
    r.close()


def test_store_answers_carry_modseq():
    r = srv.raw()
    before = hms(r.ok("SELECT INBOX (CONDSTORE)"))
    lines = r.ok("STORE 1 +FLAGS (\\Flagged)")
    m = re.match(r"\* 1 FETCH \(MODSEQ \((\d+)\) FLAGS \(\\Flagged( \\Recent)?\)\)$", lines[0])
    assert m and int(m.group(1)) > before, lines
    lines = r.ok("UID STORE 1 -FLAGS.SILENT (\\Flagged)")
    assert re.match(r"\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$", lines[0]), lines
    r.close()


def test_other_sessions_get_modseq_in_updates():
    a = srv.raw()
    a.ok("SELECT INBOX (CONDSTORE)")
    b = srv.raw()
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS.SILENT (\\Answered)")
    lines = a.ok("NOOP")
    assert re.match(r"\* 2 FETCH \(MODSEQ \(\d+\) FLAGS \(\\Answered", lines[0]), lines
    a.close()
    b.close()


def test_unchangedsince_and_modified():
    r = srv.raw()
    r.ok("SELECT INBOX (CONDSTORE)")
    lines = r.ok("STORE 3 +FLAGS (\\Seen)")
    ms = int(re.search(r"MODSEQ \((\d+)\)", lines[0]).group(1))
    lines, t = r.cmd("STORE 3:4 (UNCHANGEDSINCE %d) +FLAGS (\\Flagged)" % (ms - 1))
    assert t.split(" ", 2)[1:3] == ["OK", "[MODIFIED 3] Conditional STORE failed."], t
    assert len(lines) == 1 and lines[0].startswith("* 4 FETCH (MODSEQ ("), lines
    _, t = r.cmd("UID STORE 3 (UNCHANGEDSINCE 0) +FLAGS (\\Flagged)")
    assert "[MODIFIED 3]" in t, t
    lines, t = r.cmd("STORE 3 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Flagged)" % ms)
    assert status(t) == "OK" and "MODIFIED" not in t, t
    assert re.match(r"\* 3 FETCH \(MODSEQ \(\d+\)\)$", lines[0]), lines
    r.close()


def test_status_and_search_modseq():
    r = srv.raw()
    lines = r.ok("STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
    assert re.match(r"\* STATUS INBOX \(HIGHESTMODSEQ \d+ MESSAGES \d+\)$", lines[0]), lines
    lines = r.ok("SELECT INBOX")
    top = hms(lines)   # STATUS HIGHESTMODSEQ enabled CONDSTORE
    lines = r.ok("STORE 5 +FLAGS.SILENT (\\Draft)")
    lines = r.ok("UID SEARCH MODSEQ %d" % (top + 1))
    assert re.match(r"\* SEARCH 5 \(MODSEQ \d+\)$", lines[0]), lines
    r.close()


def test_qresync_resync_with_vanished():
    r = srv.raw()
    r.ok("ENABLE QRESYNC")
    lines = r.ok("SELECT INBOX")
    uv, ms = uidvalidity(lines), hms(lines)
    # Another session changes flags and expunges while we are away.
    w = srv.raw()
    w.ok("SELECT INBOX")
    w.ok("STORE 10 +FLAGS.SILENT (\\Seen)")
    w.ok("STORE 11:12 +FLAGS.SILENT (\\Deleted)")
    lines = r.ok("NOOP")
    assert any(l.startswith("* 10 FETCH (UID 10 MODSEQ") for l in lines), lines
    w.ok("EXPUNGE")
    # Under QRESYNC an expunge is told as VANISHED.
    lines = r.ok("NOOP")
    assert "* VANISHED 11:12" in lines, lines
    r.ok("UNSELECT")
    lines = r.ok("SELECT INBOX (QRESYNC (%d %d))" % (uv, ms))
    assert "* VANISHED (EARLIER) 11:12" in lines, lines
    fl = [l for l in lines if " FETCH " in l]
    assert any(l.startswith("* 10 FETCH (UID 10 FLAGS (") and "\\Seen" in l and "MODSEQ" in l
               for l in fl), fl
    # With known UIDs, only those are reported vanished.
    lines = r.ok("SELECT INBOX (QRESYNC (%d %d 1:11))" % (uv, ms))
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed.", lines
    assert "* VANISHED (EARLIER) 11" in lines, lines
    # A wrong UIDVALIDITY gets no resync data.
    lines = r.ok("SELECT INBOX (QRESYNC (1 %d))" % ms)
    assert not any("VANISHED" in l for l in lines), lines
    w.close()
    r.close()


def test_qresync_expunge_tells_highestmodseq():
    r = srv.raw()
    r.ok("ENABLE QRESYNC")
    before = hms(r.ok("SELECT INBOX"))
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    lines, t = r.cmd("EXPUNGE")
    assert lines[0].startswith("* VANISHED "), lines
    m = re.search(r"OK \[HIGHESTMODSEQ (\d+)\]", t)
    assert m and int(m.group(1)) > before, t
    r.close()


def test_qresync_needs_enable():
    r = srv.raw()
    _, t = r.cmd("SELECT INBOX (QRESYNC (1 1))")
    assert status(t) == "BAD", t
    r.close()


def test_uid_fetch_changedsince_vanished():
    r = srv.raw()
    r.ok("ENABLE QRESYNC")
    lines = r.ok("SELECT INBOX")
    ms = hms(lines)
    w = srv.raw()
    w.ok("SELECT INBOX")
    w.ok("UID STORE 20 +FLAGS.SILENT (\\Flagged)")
    w.ok("UID STORE 21 +FLAGS.SILENT (\\Deleted)")
    w.ok("UID EXPUNGE 21")
    w.close()
    lines, t = r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % ms)
    assert status(t) == "OK", t
    assert lines[0] == "* VANISHED (EARLIER) 21", lines
    fl = [l for l in lines if " FETCH " in l]
    assert len(fl) == 1 and "UID 20" in fl[0] and "\\Flagged" in fl[0], lines
    _, t = r.cmd("FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert status(t) == "BAD", t
    r.close()


run_tests(globals(), [srv])
