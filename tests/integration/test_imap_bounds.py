"""Bounded input: a line over the limit (8 KiB before login, 64 KiB after)
gets BAD and the connection goes on; a literal over 64 MB gets NO [TOOBIG]
whether synchronizing or LITERAL+, and the connection goes on; a large
APPEND under the limit streams; pipelined commands are all answered in
order; syntax errors get BAD; a silent client (IDLE included) is dropped
after the idle timeout (MAILVAULT_IMAP_TIMEOUT); stopping the server says
BYE to the sessions."""
import time

from imaptest import Raw, Server, run_tests, status

srv = Server(corpus=False)
LIMIT = 64 * 1024 * 1024


def test_long_line_before_login():
    r = Raw(srv.port)
    _, t = r.cmd("NOOP " + "x" * 9000)
    assert status(t) == "BAD", t
    _, t = r.cmd("NOOP")
    assert status(t) == "OK", t
    r.close()


def test_long_line_after_login():
    r = srv.raw()
    r.ok("SELECT INBOX")
    uids = ",".join(str(i) for i in range(1, 12000))   # ~60 KB: allowed
    assert len(uids) < 64 * 1024 - 100
    assert r.ok("UID SEARCH UID " + uids) == ["* SEARCH 1"]
    _, t = r.cmd("UID SEARCH UID " + uids + "," + uids)
    assert status(t) == "BAD", t
    r.ok("NOOP")
    r.close()


def test_sync_literal_too_big():
    r = srv.raw()
    r.send("a APPEND INBOX {%d}\r\n" % (LIMIT + 1))
    line = r.line()
    assert line.startswith("a NO [TOOBIG]"), line
    r.ok("NOOP")
    r.close()


def test_nonsync_literal_too_big_is_skipped():
    r = srv.raw()
    r.send("a APPEND INBOX {%d+}\r\n" % (LIMIT + 1))
    chunk = b"x" * (1024 * 1024)
    left = LIMIT + 1
    while left > 0:
        n = min(left, len(chunk))
        r.send(chunk[:n])
        left -= n
    r.send(b"\r\n")
    _, t = r.until("a")
    assert t.startswith("a NO [TOOBIG]"), t
    r.ok("NOOP")
    r.close()


def test_large_append_streams():
    r = srv.raw()
    body = (b"y" * 998 + b"\r\n") * 5000      # 5 MB
    msg = b"Subject: big\r\n\r\n" + body
    r.send("a APPEND INBOX {%d}\r\n" % len(msg))
    assert r.line().startswith("+")
    r.send(msg + b"\r\n")
    _, t = r.until("a")
    assert t.startswith("a OK [APPENDUID "), t
    lines = r.ok("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 2)"], lines
    r.close()


def test_pipelined_commands_are_answered_in_order():
    r = srv.raw()
    r.send("".join("p%d NOOP\r\n" % i for i in range(300)))
    for i in range(300):
        _, t = r.until("p%d" % i)
        assert status(t) == "OK", t
    r.send("s1 SELECT INBOX\r\ns2 UID SEARCH ALL\r\ns3 LOGOUT\r\n")
    lines, t = r.until("s2")
    assert "* SEARCH 1 2" in lines, lines
    r.close()


def test_syntax_errors_get_bad():
    r = srv.raw()
    for bad in ("SELECT", 'SELECT "INBOX', "SELECT INBOX extra(", "LIST",
                "STATUS INBOX (MESSAGES", "UID FROB 1", "UID LIST", "CREATE a b"):
        _, t = r.cmd(bad)
        assert status(t) == "BAD", (bad, t)
    r.send("\r\n")               # an empty line is ignored
    r.send("+bad NOOP\r\n")
    assert r.line().startswith("* BAD"), "bad tag"
    r.ok("NOOP")
    r.close()


def test_idle_timeout():
    s2 = Server(corpus=False, env={"MAILVAULT_IMAP_TIMEOUT": "2"}, name="timeout")
    try:
        r = Raw(s2.port)
        start = time.time()
        line = r.line()
        assert line.startswith("* BYE"), line
        assert 1.5 < time.time() - start < 6, time.time() - start
        r.close()
        r = s2.raw()
        r.send("i IDLE\r\n")
        assert r.line() == "+ idling"
        start = time.time()
        line = r.line()
        assert line.startswith("* BYE"), line
        assert 1.5 < time.time() - start < 6
        r.close()
    finally:
        s2.stop()


def test_stop_says_bye_to_sessions():
    r = srv.raw()
    r.ok("SELECT INBOX")
    r.send("i IDLE\r\n")
    assert r.line() == "+ idling"
    srv.stop()
    line = r.line()
    assert line.startswith("* BYE"), line
    r.close()


run_tests(globals())
