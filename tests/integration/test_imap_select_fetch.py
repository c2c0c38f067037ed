"""SELECT, EXAMINE, FETCH and SEARCH as a session runs them: the SELECT
answer, \\Recent going to the first session only, FETCH of every message
byte-exact over IMAPS, \\Seen set by a body fetch in read-write mode only,
bad sets, a message expunged by another session while still visible, and
SEARCH / ESEARCH / BADCHARSET."""
import os
import re

from imaptest import CORPUS, NCORPUS, Server, run_tests, status

srv = Server()
FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))


def wire(name):
    """A corpus file as FETCH BODY[] gives it: `import --format eml` brings
    bare LFs to CRLF (a CRLF or a lone CR stays), and a NUL goes out as
    0x80 (a literal may not hold NUL; Dovecot does the same)."""
    data = open(os.path.join(CORPUS, name), "rb").read()
    return re.sub(rb"(?<!\r)\n", b"\r\n", data).replace(b"\0", b"\x80")


def test_select_answer():
    r = srv.raw()
    lines, t = r.cmd("SELECT INBOX")
    assert t.endswith("OK [READ-WRITE] Select completed."), t
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)", lines
    assert lines[1].startswith("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                               "\\Draft \\*)]"), lines
    assert lines[2:5] == ["* %d EXISTS" % NCORPUS, "* %d RECENT" % NCORPUS,
                          "* OK [UNSEEN 1] First unseen."], lines
    assert re.match(r"\* OK \[UIDVALIDITY \d+\] UIDs valid", lines[5]), lines
    assert lines[6] == "* OK [UIDNEXT %d] Predicted next UID" % (NCORPUS + 1), lines
    lines = r.ok("FETCH 1 FLAGS")
    assert lines == ["* 1 FETCH (FLAGS (\\Recent))"], lines
    # The next session finds nothing recent.
    r2 = srv.raw()
    lines = r2.ok("SELECT INBOX")
    assert "* 0 RECENT" in lines, lines
    assert r2.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS ())"]
    r2.close()
    r.close()


def test_fetch_all_bodies_byte_exact_over_tls():
    c = srv.connect_ssl()
    c.select("INBOX", readonly=True)
    typ, data = c.fetch("1:*", "(UID RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    msgs = [d for d in data if isinstance(d, tuple)]
    assert len(msgs) == NCORPUS, len(msgs)
    for (head, body), name in zip(msgs, FILES):
        want = wire(name)
        size = int(re.search(rb"RFC822.SIZE (\d+)", head).group(1))
        assert body == want, name
        assert size == len(want), (name, size, len(want))
    c.logout()


def test_uid_fetch_flags_all():
    r = srv.raw()
    r.ok("EXAMINE INBOX")
    lines = r.ok("UID FETCH 1:* (UID FLAGS)")
    assert len(lines) == NCORPUS, len(lines)
    assert lines[0] == "* 1 FETCH (UID 1 FLAGS ())", lines[0]
    assert r.ok("UID FETCH 5000:6000 FLAGS") == []
    r.close()


def test_body_fetch_sets_seen_only_when_read_write():
    r = srv.raw()
    r.ok("EXAMINE INBOX")
    lines = r.ok("FETCH 2 BODY[TEXT]")
    assert not any("\\Seen" in l for l in lines), lines
    r.ok("SELECT INBOX")
    lines = r.ok("FETCH 2 BODY.PEEK[HEADER]")
    assert "\\Seen" not in lines[0], lines
    lines = r.ok("FETCH 2 BODY[TEXT]")
    assert "FLAGS (\\Seen" in lines[0], lines
    lines = r.ok("FETCH 2 FLAGS")
    assert lines == ["* 2 FETCH (FLAGS (\\Seen))"], lines
    r.close()


def test_bad_sets():
    r = srv.raw()
    r.ok("SELECT INBOX")
    for bad in ("FETCH 0 FLAGS", "FETCH %d FLAGS" % (NCORPUS + 1), "FETCH 1:x FLAGS",
                "FETCH 1 (FLAGS", "FETCH 1 BOGUS", "FETCH $ FLAGS"):
        _, t = r.cmd(bad)
        assert status(t) == "BAD", (bad, t)
    r.ok("NOOP")
    r.close()


def test_fetch_of_a_message_expunged_elsewhere():
    a = srv.raw()
    a.ok("SELECT INBOX")
    b = srv.raw()
    b.ok("SELECT INBOX")
    b.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    # a still sees message 3 until it is told; no EXPUNGE during FETCH.
    lines, t = a.cmd("FETCH 3:4 (UID FLAGS)")
    assert not any("EXPUNGE" in l for l in lines), lines
    assert status(t) in ("OK", "NO"), t
    lines, t = a.cmd("FETCH 3 BODY.PEEK[]")
    assert status(t) == "OK" or "[EXPUNGEISSUED]" in t, t
    lines = a.ok("NOOP")
    assert "* 3 EXPUNGE" in lines, lines
    a.close()
    b.close()


def test_search_and_esearch():
    r = srv.raw()
    r.ok("SELECT INBOX")
    lines = r.ok("SEARCH ALL")
    assert lines[0].startswith("* SEARCH 1 2 3"), lines
    lines = r.ok("UID SEARCH SEEN")
    assert lines == ["* SEARCH 2"], lines
    lines, t = r.cmd("SEARCH RETURN (MIN MAX COUNT) ALL")
    assert re.match(r'\* ESEARCH \(TAG "t\d+"\) MIN 1 MAX \d+ COUNT \d+$', lines[0]), lines
    _, t = r.cmd("SEARCH CHARSET KOI8-R ALL")
    assert status(t) == "NO" and "[BADCHARSET" in t, t
    _, t = r.cmd("SEARCH FROB")
    assert status(t) == "BAD", t
    r.ok("NOOP")
    r.close()


def test_check_close_unselect():
    r = srv.raw()
    r.ok("SELECT INBOX")
    r.ok("CHECK")
    r.ok("UNSELECT")
    _, t = r.cmd("CHECK")
    assert status(t) == "BAD", t
    r.close()


run_tests(globals(), [srv])
