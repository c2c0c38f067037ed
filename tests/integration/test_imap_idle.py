"""IDLE (RFC 2177): "+ idling", then untagged EXISTS, FETCH and EXPUNGE as
other connections change the mailbox, at once; a `mailvault import` in
another process reaches the idling client within 5 seconds; DONE ends it;
IDLE works without a mailbox too, and a wrong DONE line is BAD."""
import os
import socket
import time

from imaptest import Server, run_tests, status

srv = Server()


def wait_for(r, pred, seconds):
    """Read lines until pred(line) holds; return (line, elapsed)."""
    start = time.time()
    r.sock.settimeout(0.2)
    try:
        while time.time() - start < seconds:
            try:
                line = r.line()
            except socket.timeout:
                continue
            if pred(line):
                return line, time.time() - start
    finally:
        r.sock.settimeout(30)
    raise AssertionError("nothing matched within %s s" % seconds)


def idle(r):
    r.send("idle IDLE\r\n")
    line = r.line()
    assert line == "+ idling", line


def done(r):
    r.send("DONE\r\n")
    lines, t = r.until("idle")
    assert t.startswith("idle OK"), t
    return lines


def test_idle_sees_append_from_another_connection():
    r = srv.raw()
    r.ok("SELECT INBOX")
    idle(r)
    w = srv.connect()
    w.append("INBOX", None, None, b"Subject: during idle\r\n\r\nhi\r\n")
    line, took = wait_for(r, lambda l: l.endswith(" EXISTS"), 3)
    assert took < 1.5, took
    w.logout()
    done(r)
    r.close()


def test_idle_sees_flags_and_expunge():
    r = srv.raw()
    r.ok("SELECT INBOX")
    w = srv.raw()
    w.ok("SELECT INBOX")
    idle(r)
    w.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    line, _ = wait_for(r, lambda l: " FETCH " in l, 3)
    assert line.startswith("* 2 FETCH (FLAGS (") and "\\Flagged" in line, line
    w.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    w.ok("EXPUNGE")
    line, _ = wait_for(r, lambda l: l.endswith("EXPUNGE"), 3)
    assert line == "* 2 EXPUNGE", line
    done(r)
    w.close()
    r.close()


def test_idle_sees_import_from_another_process():
    r = srv.raw()
    r.ok("SELECT INBOX")
    idle(r)
    time.sleep(0.3)
    msg = os.path.join(srv.dir, "new.eml")
    with open(msg, "wb") as f:
        f.write(b"From: other@example.org\r\nSubject: from another process\r\n\r\nnew\r\n")
    start = time.time()
    srv.mv("import", "demo", msg, "--format", "eml", "--quiet")
    line, _ = wait_for(r, lambda l: l.endswith(" EXISTS"), 6)
    took = time.time() - start
    assert took < 5, took
    done(r)
    r.close()


def test_idle_without_a_mailbox_and_bad_done():
    r = srv.raw()
    idle(r)
    assert done(r) == []
    idle(r)
    r.send("STOP\r\n")
    _, t = r.until("idle")
    assert status(t) == "BAD", t
    r.ok("NOOP")
    r.close()


def test_pending_changes_are_sent_when_idle_starts():
    r = srv.raw()
    r.ok("SELECT INBOX")
    w = srv.connect()
    w.append("INBOX", None, None, b"Subject: before idle\r\n\r\nhi\r\n")
    w.logout()
    idle(r)
    line, took = wait_for(r, lambda l: l.endswith(" EXISTS"), 2)
    assert took < 0.5, took
    done(r)
    r.close()


run_tests(globals(), [srv])
