"""POP3 scenarios with Python's poplib and a raw line client: every command
and its error paths, APOP with a digest computed here, AUTH PLAIN, CAPA,
STLS and POP3S pinned to `credentials --cert`, pipelined commands, TOP with
0 and more lines, byte-stuffing of a message whose lines start with dots,
sizes equal to the bytes sent, UIDLs stable across sessions, deletion at
QUIT (hidden from POP3, still there for IMAP) and not at a dropped
connection, `config set pop3-delete expunge`, IN-USE, wrong passwords
answered -ERR [AUTH] after a growing delay, and the password never logged."""
import base64
import hashlib
import imaplib
import json
import poplib
import re
import time

from pop3test import (AUTH_DELAY_MS, Raw, Server, corpus_files, run_tests,
                      stored_form, timestamp_of, unstuff)

FILES = corpus_files()
N = len(FILES)
srv = Server()


def stored(i):
    """The bytes of message i (1-based) as stored (CRLF wire form)."""
    return stored_form(FILES[i - 1])


def test_greeting_and_capa():
    p = srv.pop(login=False)
    g = p.getwelcome().decode()
    assert g.startswith("+OK ") and "@" in timestamp_of(g), g
    caps = p.capa()
    for c in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE",
              "PIPELINING", "STLS", "IMPLEMENTATION"):
        assert c in caps, c
    assert caps["SASL"] == ["PLAIN"], caps
    p.quit()


def test_stat_list_and_sizes_are_the_stored_octets():
    p = srv.pop()
    count, total = p.stat()
    sizes = [len(stored(i)) for i in range(1, N + 1)]
    assert count == N and total == sum(sizes), (count, total)
    resp, lines, _ = p.list()
    assert lines == [b"%d %d" % (i + 1, s) for i, s in enumerate(sizes)]
    assert p.list(3) == b"+OK 3 %d" % sizes[2]
    for bad in (0, N + 1, 99999):
        try:
            p.list(bad)
            raise AssertionError("LIST %d worked" % bad)
        except poplib.error_proto as e:
            assert str(e).startswith("b'-ERR"), e
    p.quit()


def test_retr_sends_exactly_the_stored_bytes():
    r = srv.raw()
    for i in range(1, N + 1):
        want = stored(i)
        line = r.cmd("RETR %d" % i)
        assert line == "+OK %d octets" % len(want), line
        got = unstuff(r.multi())
        if not want.endswith(b"\n"):
            # The CRLF before the terminating dot is not content.
            assert got.endswith(b"\r\n")
            got = got[:-2]
        assert got == want, FILES[i - 1]
    r.ok("QUIT")
    r.close()


def test_dot_lines_are_stuffed():
    i = next(n for n, f in enumerate(FILES, 1) if "dot-lines" in f)
    r = srv.raw()
    r.ok("RETR %d" % i)
    sent = r.multi()
    raw = stored(i)
    for line in raw.split(b"\r\n"):
        if line.startswith(b"."):
            assert b"\r\n." + line + b"\r\n" in sent, line
    assert unstuff(sent) == raw
    r.ok("QUIT")
    r.close()


def top_of(raw, n):
    """What TOP n must send (unstuffed): the header, the empty line, n lines."""
    lines = re.findall(rb"[^\n]*\n|[^\n]+$", raw)
    blank = [k for k, l in enumerate(lines) if l in (b"\n", b"\r\n")]
    if not blank:
        out = raw
    else:
        out = b"".join(lines[:blank[0] + 1 + n])
    return out if out.endswith(b"\n") or not out else out + b"\r\n"


def test_top_with_zero_and_more_lines():
    r = srv.raw()
    for i in range(1, N + 1):
        for n in (0, 1, 5, 100000):
            r.ok("TOP %d %d" % (i, n))
            got = unstuff(r.multi())
            assert got == top_of(stored(i), n), (FILES[i - 1], n)
    r.err("TOP %d 0" % (N + 1))
    r.ok("QUIT")
    r.close()
    p = srv.pop()
    _, lines, _ = p.top(1, 0)
    assert lines[-1] == b"" and lines[0].startswith(b"Return-Path:"), lines
    p.quit()


def test_uidl_is_stable_and_unique():
    p = srv.pop()
    _, first, _ = p.uidl()
    p.quit()
    p = srv.pop()
    _, second, _ = p.uidl()
    one = p.uidl(2)
    p.quit()
    assert first == second and len(first) == N
    ids = [l.split()[1] for l in first]
    assert len(set(ids)) == N and all(len(u) == 16 for u in ids)
    assert one == b"+OK " + first[1], one


def test_apop_with_a_digest_computed_here():
    r = Raw(srv.port)
    ts = timestamp_of(r.greeting)
    digest = hashlib.md5((ts + srv.password).encode()).hexdigest()
    r.err("APOP demo %s" % ("0" * 32), "-ERR [AUTH]")
    assert r.cmd("APOP demo %s" % digest).startswith("+OK demo's maildrop has %d" % N)
    r.ok("QUIT")
    r.close()
    p = srv.pop(login=False)
    p.apop(srv.user, srv.password)
    assert p.stat()[0] == N
    p.quit()


def test_auth_plain_with_and_without_initial_response():
    b = base64.b64encode(b"\0demo\0" + srv.password.encode()).decode()
    r = Raw(srv.port)
    r.ok("AUTH PLAIN %s" % b)
    r.ok("QUIT")
    r.close()
    r = Raw(srv.port)
    assert r.cmd("AUTH PLAIN") == "+ "
    r.ok(b)
    r.ok("STAT")
    r.ok("QUIT")
    r.close()
    r = Raw(srv.port)
    assert r.cmd("AUTH PLAIN") == "+ "
    r.err("*")
    r.err("AUTH PLAIN %s" % base64.b64encode(b"\0demo\0nope").decode(), "-ERR [AUTH]")
    r.err("AUTH DIGEST-MD5")
    r.ok("QUIT")
    r.close()


def test_wrong_password_is_refused_after_a_growing_delay():
    r = Raw(srv.port)
    r.ok("USER demo")
    t0 = time.time()
    r.err("PASS wrong", "-ERR [AUTH]")
    first = time.time() - t0
    r.ok("USER nosuchuser")
    t0 = time.time()
    r.err("PASS %s" % srv.password, "-ERR [AUTH]")
    second = time.time() - t0
    assert first >= AUTH_DELAY_MS / 1000.0 * 0.9, first
    assert second >= 2 * AUTH_DELAY_MS / 1000.0 * 0.9, second
    r.err("PASS %s" % srv.password)  # PASS needs a USER again
    r.ok("QUIT")
    r.close()
    p = srv.pop(login=False)
    try:
        p.user("demo")
        p.pass_("wrong")
        raise AssertionError("a wrong password logged in")
    except poplib.error_proto as e:
        assert b"[AUTH]" in e.args[0], e
    p.quit()


def test_commands_in_the_wrong_state_and_bad_commands():
    r = Raw(srv.port)
    r.err("STAT")
    r.err("RETR 1")
    r.err("NOOP")
    r.err("FROB")
    r.err("")
    r.err("X" * 5000)  # an over-long line: the connection survives
    r.ok("USER demo")
    r.ok("PASS %s" % srv.password)
    r.err("USER demo")
    r.err("PASS x")
    r.err("APOP demo %s" % ("0" * 32))
    r.err("STLS")
    r.err("RETR")
    r.err("RETR one")
    r.err("RETR 0")
    r.err("RETR %d" % (N + 1))
    r.err("TOP 1")
    r.err("LIST 1 2")
    r.err("DELE 4294967296")
    r.err("Y" * 3000)
    r.ok("NOOP")
    r.ok("QUIT")
    assert r.eof()
    r.close()


def test_pipelined_commands_are_answered_in_order():
    r = Raw(srv.port)
    r.send("CAPA\r\nUSER demo\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL 1\r\nTOP 1 0\r\n"
           "RETR 2\r\nDELE 3\r\nBOGUS\r\nRSET\r\nNOOP\r\nQUIT\r\n" % srv.password)
    assert r.line().startswith("+OK")
    r.multi()
    assert r.line().startswith("+OK")
    assert r.line().startswith("+OK demo's maildrop")
    assert r.line() == "+OK %d %d" % (N, sum(len(stored(i)) for i in range(1, N + 1)))
    assert r.line().startswith("+OK")
    assert len(r.multi().split(b"\r\n")) == N + 1
    assert r.line().startswith("+OK 1 ")
    assert r.line().startswith("+OK")
    assert unstuff(r.multi()) == stored(1).partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert r.line().startswith("+OK")
    assert unstuff(r.multi()) == stored(2)
    assert r.line().startswith("+OK")
    assert r.line().startswith("-ERR")
    assert r.line().startswith("+OK")
    assert r.line() == "+OK"
    assert r.line().startswith("+OK")
    assert r.eof()
    r.close()


def test_stls_and_pop3s_with_the_pinned_certificate():
    p = srv.pop(login=False)
    p.stls(context=srv.ssl_context())
    assert "STLS" not in p.capa()
    p.user(srv.user)
    p.pass_(srv.password)
    assert p.stat()[0] == N
    p.quit()
    p = srv.pop_ssl()
    _, lines, _ = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == stored(1)
    p.quit()


def test_in_use_while_another_session_holds_the_maildrop():
    p = srv.pop()
    r = Raw(srv.port)
    r.ok("USER demo")
    r.err("PASS %s" % srv.password, "-ERR [IN-USE]")
    # IMAP sessions may run meanwhile.
    c = imaplib.IMAP4("127.0.0.1", srv.imap_port, timeout=30)
    c.login(srv.user, srv.password)
    assert c.select("INBOX")[0] == "OK"
    c.logout()
    p.quit()
    r.ok("USER demo")
    r.ok("PASS %s" % srv.password)
    r.ok("QUIT")
    r.close()


def imap_flags(server):
    """{uid: flags} of INBOX as IMAP sees it. Keywords show only when the
    IMAP server answers FETCH; otherwise `mailvault ls` gives the UIDs and
    system flags ("S" for \\Seen)."""
    c = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=30)
    c.login(server.user, server.password)
    c.select("INBOX", readonly=True)
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    c.logout()
    out = {}
    if typ == "OK":
        for d in data:
            s = d.decode()
            uid = int(re.search(r"UID (\d+)", s).group(1))
            out[uid] = re.search(r"FLAGS \(([^)]*)\)", s).group(1)
        return out, True
    for m in json.loads(server.mv("ls", "demo/INBOX", "--json").stdout):
        out[m["uid"]] = "\\Seen" if m["flags"].startswith("S") else ""
    return out, False


def test_dropped_connection_deletes_nothing():
    r = srv.raw()
    r.ok("DELE 1")
    r.ok("DELE 2")
    r.close()  # no QUIT
    time.sleep(0.3)
    p = srv.pop()
    assert p.stat()[0] == N
    p.quit()


def test_quit_hides_deleted_messages_from_pop3_only():
    s = Server(name="hide", files=FILES[:6])
    try:
        p = s.pop()
        _, before, _ = p.uidl()
        p.retr(4)
        p.dele(2)
        p.dele(3)
        assert p.stat()[0] == 4
        p.rset()
        assert p.stat()[0] == 6
        p.dele(2)
        p.quit()
        p = s.pop()
        _, after, _ = p.uidl()
        assert p.stat()[0] == 5
        p.quit()
        # Numbers shift, UIDLs stay.
        ids_before = [l.split()[1] for l in before]
        ids_after = [l.split()[1] for l in after]
        assert ids_after == ids_before[:1] + ids_before[2:]
        flags, keywords = imap_flags(s)
        assert keywords, "IMAP FETCH FLAGS did not answer"
        assert len(flags) == 6, flags
        # Hiding is no keyword: IMAP clients never see it.
        assert not any("POP3" in f for f in flags.values()), flags
        assert "\\Seen" in flags[4] and "\\Seen" not in flags[5], flags
        # A MOVE does not carry it: moved out and back, the message is a
        # new one in INBOX, and POP3 lists it again.
        c = imaplib.IMAP4("127.0.0.1", s.imap_port, timeout=30)
        c.login(s.user, s.password)
        assert c.create("Elsewhere")[0] == "OK"
        c.select("INBOX")
        assert c.uid("MOVE", "2", "Elsewhere")[0] == "OK"
        c.select("Elsewhere")
        typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
        assert typ == "OK" and b"POP3" not in b"".join(
            d for d in data if isinstance(d, bytes)), data
        assert c.uid("MOVE", "1:*", "INBOX")[0] == "OK"
        c.logout()
        p = s.pop()
        assert p.stat()[0] == 6
        p.quit()
        flags, _ = imap_flags(s)
        assert not any("POP3" in f for f in flags.values()), flags
    finally:
        s.stop()


def test_pop3_delete_expunge_setting():
    s = Server(name="expunge", files=FILES[:3])
    try:
        s.mv("config", "set", "pop3-delete", "expunge")
        p = s.pop()
        p.dele(1)
        p.quit()
        c = imaplib.IMAP4("127.0.0.1", s.imap_port, timeout=30)
        c.login(s.user, s.password)
        typ, data = c.select("INBOX")
        assert data == [b"2"], data
        c.logout()
        p = s.pop()
        assert p.stat()[0] == 2
        p.quit()
    finally:
        s.stop()


def test_serve_option_pop3_delete_expunge():
    s = Server(name="expunge-opt", files=FILES[:2], extra_args=("--pop3-delete", "expunge"))
    try:
        p = s.pop()
        p.dele(2)
        p.quit()
        c = imaplib.IMAP4("127.0.0.1", s.imap_port, timeout=30)
        c.login(s.user, s.password)
        assert c.select("INBOX")[1] == [b"1"]
        c.logout()
    finally:
        s.stop()


def test_idle_session_is_dropped():
    s = Server(name="idle", files=FILES[:1], env={"MAILVAULT_POP3_TIMEOUT": "1"})
    try:
        r = s.raw()
        r.ok("DELE 1")
        assert r.line().startswith("-ERR"), "no goodbye"
        assert r.eof()
        r.close()
        p = s.pop()
        assert p.stat()[0] == 1
        p.quit()
    finally:
        s.stop()


def test_server_stop_says_goodbye():
    s = Server(name="stop", files=FILES[:1])
    r = s.raw()
    s.proc.send_signal(15)
    assert r.line().startswith("-ERR [SYS/TEMP]")
    r.close()
    s.stop()


def test_the_password_never_reaches_the_log():
    assert srv.password not in srv.logtext()


run_tests(globals(), servers=[srv])
