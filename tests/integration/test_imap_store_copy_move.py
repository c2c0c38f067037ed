"""IMAP changes: STORE in all its forms with flags and keywords, COPY and MOVE
with UIDPLUS answers, EXPUNGE and UID EXPUNGE, CLOSE and UNSELECT, APPEND
(flags, date, APPENDUID, TRYCREATE), read-only EXAMINE, and what other
sessions are told: EXISTS, EXPUNGE and FETCH FLAGS at their next command,
never an EXPUNGE in the middle of a SEARCH, and five clients on one
mailbox seeing each other's changes."""
import threading

from imaptest import Server, run_tests, status, NCORPUS

srv = Server()


def fetchlines(lines):
    return [l for l in lines if " FETCH " in l]


def norecent(lines):
    """Without "* n RECENT" (told after expunges, as Dovecot does)."""
    return [l for l in lines if not l.endswith(" RECENT")]


def test_store_add_remove_replace():
    r = srv.raw()
    r.ok("SELECT INBOX")
    lines = r.ok("STORE 1 +FLAGS (\\Seen \\Flagged)")
    assert lines == ["* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))"], lines
    lines = r.ok("STORE 1 -FLAGS (\\Flagged)")
    assert lines == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"], lines
    lines = r.ok("STORE 1:2 FLAGS (\\Answered)")
    assert lines == ["* 1 FETCH (FLAGS (\\Answered \\Recent))",
                     "* 2 FETCH (FLAGS (\\Answered \\Recent))"], lines
    lines = r.ok("STORE 2 -FLAGS.SILENT (\\Answered)")
    assert lines == [], lines
    lines = r.ok("UID STORE 1 +FLAGS \\Draft")
    assert lines == ["* 1 FETCH (UID 1 FLAGS (\\Answered \\Draft \\Recent))"], lines
    r.close()


def test_store_keywords_announce_new_flags():
    r = srv.raw()
    r.ok("SELECT INBOX")
    lines = r.ok("STORE 3 +FLAGS ($Important work)")
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important work)", lines
    assert "PERMANENTFLAGS" in lines[1] and "$Important work \\*" in lines[1], lines
    # \Recent went to the first session that selected INBOX.
    assert lines[2] == "* 3 FETCH (FLAGS ($Important work))", lines
    lines = r.ok("UID SEARCH KEYWORD $Important")
    assert lines == ["* SEARCH 3"], lines
    # A new session lists the keyword in FLAGS at SELECT.
    r2 = srv.raw()
    lines = r2.ok("EXAMINE INBOX")
    assert "$Important" in lines[0], lines
    r2.close()
    lines = r.ok("STORE 3 -FLAGS ($important)")
    assert lines == ["* 3 FETCH (FLAGS (work))"], lines
    r.close()


def test_store_errors():
    r = srv.raw()
    r.ok("SELECT INBOX")
    for bad in ("STORE 1 +FLAGS (\\Recent)", "STORE 1 +FLAGS (\\Bogus)",
                "STORE 1 FROB (\\Seen)", "STORE 999 +FLAGS (\\Seen)",
                "STORE 0 +FLAGS (\\Seen)", "STORE 1 +FLAGS"):
        _, t = r.cmd(bad)
        assert status(t) == "BAD", (bad, t)
    lines = r.ok("UID STORE 999 +FLAGS (\\Seen)")
    assert lines == [], lines
    r.ok("EXAMINE INBOX")
    _, t = r.cmd("STORE 1 +FLAGS (\\Seen)")
    assert status(t) == "NO", t
    r.close()


def test_copy_with_copyuid():
    r = srv.raw()
    r.ok("CREATE CopyDest")
    r.ok("SELECT INBOX")
    _, t = r.cmd("COPY 4:6 CopyDest")
    assert status(t) == "OK" and "[COPYUID " in t and t.endswith(" 4:6 1:3] Copy completed."), t
    _, t = r.cmd("UID COPY 10,8 CopyDest")
    assert " 8,10 4:5]" in t, t
    _, t = r.cmd("COPY 1 NoSuchBox")
    assert status(t) == "NO" and "[TRYCREATE]" in t, t
    _, t = r.cmd("UID COPY 5000 CopyDest")
    assert status(t) == "OK", t
    lines = r.ok("STATUS CopyDest (MESSAGES)")
    assert lines == ["* STATUS CopyDest (MESSAGES 5)"], lines
    r.close()


def test_move_reports_copyuid_then_expunges():
    r = srv.raw()
    r.ok("CREATE MoveDest")
    r.ok("SELECT CopyDest")
    lines, t = r.cmd("MOVE 2:3 MoveDest")
    lines = norecent(lines)
    assert status(t) == "OK", t
    assert lines[0].startswith("* OK [COPYUID ") and lines[0].endswith(" 2:3 1:2] Moved UIDs."), lines
    assert lines[1:] == ["* 2 EXPUNGE", "* 2 EXPUNGE"], lines
    lines, t = r.cmd("UID MOVE 1 MoveDest")
    lines = norecent(lines)
    assert lines[1:] == ["* 1 EXPUNGE"], lines
    r.ok("ENABLE QRESYNC")
    lines, t = r.cmd("UID MOVE 4:5 MoveDest")
    lines = norecent(lines)
    assert lines[1:] == ["* VANISHED 4:5"], lines
    _, t = r.cmd("MOVE 1 NoSuchBox")
    assert status(t) == "BAD", t   # the mailbox is empty: no message 1
    r.close()


def test_expunge_and_uid_expunge():
    r = srv.raw()
    r.ok("SELECT MoveDest")
    r.ok("STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    lines = norecent(r.ok("UID EXPUNGE 2"))
    assert lines == ["* 2 EXPUNGE"], lines
    lines = norecent(r.ok("EXPUNGE"))
    assert lines == ["* 1 EXPUNGE", "* 1 EXPUNGE"], lines
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("UNSELECT")
    lines = r.ok("STATUS MoveDest (MESSAGES)")
    assert lines == ["* STATUS MoveDest (MESSAGES 2)"], lines
    r.ok("SELECT MoveDest")
    assert r.ok("CLOSE") == []
    lines = r.ok("STATUS MoveDest (MESSAGES)")
    assert lines == ["* STATUS MoveDest (MESSAGES 1)"], lines
    r.close()


def test_append():
    c = srv.connect()
    msg = b"From: a@example.org\r\nSubject: appended\r\n\r\nhello\r\n"
    typ, data = c.append("INBOX", "(\\Seen $Custom)", '"05-Mar-2021 10:11:12 +0100"', msg)
    assert typ == "OK" and b"[APPENDUID " in data[0], data
    uid = int(data[0].split(b"]")[0].split()[-1])
    assert uid == NCORPUS + 1, data
    typ, data = c.append("Nowhere", None, None, msg)
    assert typ == "NO" and b"[TRYCREATE]" in data[0], data
    c.logout()
    r = srv.raw()
    r.ok("SELECT INBOX")
    lines = r.ok("UID SEARCH KEYWORD $Custom SEEN")
    assert lines == ["* SEARCH %d" % uid], lines
    lines = r.ok('UID SEARCH ON 5-Mar-2021')
    assert lines == ["* SEARCH %d" % uid], lines
    # Appending into the selected mailbox tells EXISTS.
    r.send("a APPEND INBOX {%d+}\r\n" % len(msg))
    r.send(msg + b"\r\n")
    lines, t = r.until("a")
    assert "* %d EXISTS" % (NCORPUS + 2) in lines and status(t) == "OK", (lines, t)
    for bad in ('APPEND INBOX (\\Recent) {3+}\r\nabc', 'APPEND INBOX "bad date" {3+}\r\nabc',
                'APPEND INBOX'):
        _, t = r.cmd(bad)
        assert status(t) == "BAD", (bad, t)
    r.ok("NOOP")
    r.close()


def test_other_sessions_see_changes():
    a = srv.raw()
    b = srv.raw()
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    n = int([l for l in a.ok("NOOP") + a.ok("STATUS INBOX (MESSAGES)")
             if l.startswith("* STATUS")][0].split()[-1].rstrip(")"))
    b.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
    lines = a.ok("NOOP")
    assert any(l.startswith("* 1 FETCH (FLAGS (") and "\\Flagged" in l for l in lines), lines
    c = srv.connect()
    c.append("INBOX", None, None, b"Subject: x\r\n\r\nbody\r\n")
    c.logout()
    lines = a.ok("NOOP")
    assert "* %d EXISTS" % (n + 1) in lines, lines
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    # Not during SEARCH (RFC 3501 7.4.1), but at the next NOOP.
    lines = a.ok("SEARCH ALL")
    assert not any("EXPUNGE" in l for l in lines), lines
    lines = a.ok("NOOP")
    assert "* 2 EXPUNGE" in lines, lines
    a.close()
    b.close()


def test_five_clients_on_one_mailbox():
    clients = [srv.connect() for _ in range(5)]
    for c in clients:
        c.select("INBOX")
    errors = []

    def work(i, c):
        try:
            for k in range(5):
                typ, _ = c.append("INBOX", None, None,
                                  ("Subject: c%d m%d\r\n\r\nx\r\n" % (i, k)).encode())
                assert typ == "OK"
                c.noop()
        except Exception as e:  # noqa
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    counts = set()
    for c in clients:
        typ, data = c.noop()
        counts.add(int(c.select("INBOX")[1][0]))
    assert len(counts) == 1, counts
    for c in clients:
        c.logout()


def test_fetch_of_a_message_expunged_unseen_goes_on():
    """Session B fetches a message A expunged before B noticed: B gets the
    other messages and NO [EXPUNGEISSUED], never a NONEXISTENT that stops
    the FETCH half-way (found by the mixed-load benchmark)."""
    a, b = srv.raw(), srv.raw()
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    msg = "From: x@example.org\r\nSubject: soon gone\r\n\r\nbye\r\n"
    lines, t = a.cmd("APPEND INBOX {%d+}\r\n%s" % (len(msg), msg))
    assert status(t) == "OK", t
    b.ok("NOOP")
    lines, t = b.cmd("SEARCH SUBJECT \"soon gone\"")
    seq = int([l for l in lines if l.startswith("* SEARCH")][0].split()[-1])
    a.ok("SEARCH ALL")
    a.ok("STORE %d +FLAGS.SILENT (\\Deleted)" % seq)
    a.ok("EXPUNGE")
    lines, t = b.cmd("FETCH %d:%d (UID ENVELOPE)" % (seq - 1, seq))
    assert status(t) == "NO" and "EXPUNGEISSUED" in t, t
    assert any(l.startswith("* %d FETCH" % (seq - 1)) for l in lines), lines
    a.close()
    b.close()


run_tests(globals(), [srv])
