"""Differential test against Dovecot's POP3 server (dovecot-pop3d): the same
corpus is APPENDed to a private Dovecot and imported into mailvault, and
the same POP3 commands go to both. For every message whose line ends are
all CRLF (the wire form), the sizes in LIST, RETR, TOP with several line
counts (dot-stuffing included, byte for byte) and the UID part of UIDL
must be equal. Messages with bare LF or CR are served by mailvault exactly
as stored, while Dovecot makes every line end CRLF; for those only
mailvault's side is checked against the stored bytes."""
import imaplib
import os
import re

from pop3test import (Raw, Server, TMP, corpus_files, free_port,
                      run_tests, stored_form, unstuff)
from dovecot import Dovecot
from runner import stop_at_end

FILES = corpus_files()
N = len(FILES)
TOP_LINES = (0, 1, 3, 10, 100000)


def stored(i):
    """The bytes of message i (1-based) as stored (CRLF wire form)."""
    return stored_form(FILES[i - 1])


def wire_form(data):
    """True if every line end is CRLF and there is no lone CR."""
    return data.replace(b"\r\n", b"").find(b"\n") < 0 and \
        data.replace(b"\r\n", b"").find(b"\r") < 0


dv = stop_at_end(Dovecot(os.path.join(TMP, "dovecot"),
                         pop3_port=free_port()))
dv.start()
srv = Server()


def fill_dovecot():
    c = imaplib.IMAP4("127.0.0.1", dv.imap_port, timeout=30)
    c.login("demo", dv.password)
    for f in FILES:
        with open(f, "rb") as fh:
            typ, _ = c.append("INBOX", None, None, fh.read())
        assert typ == "OK", f
    c.logout()


fill_dovecot()


def dovecot_raw():
    r = Raw(dv.pop3_port)
    r.ok("USER demo")
    r.ok("PASS %s" % dv.password)
    return r


def test_stat_and_list_sizes_agree():
    a, b = srv.raw(), dovecot_raw()
    assert a.cmd("STAT").split()[1] == b.cmd("STAT").split()[1] == str(N)
    a.ok("LIST")
    b.ok("LIST")
    la = a.multi().split(b"\r\n")
    lb = b.multi().split(b"\r\n")
    for i in range(1, N + 1):
        if wire_form(stored(i)):
            assert la[i - 1] == lb[i - 1], (FILES[i - 1], la[i - 1], lb[i - 1])
        else:
            assert la[i - 1] == b"%d %d" % (i, len(stored(i)))
    for x in (a, b):
        x.ok("QUIT")
        x.close()


def test_retr_agrees_byte_for_byte():
    a, b = srv.raw(), dovecot_raw()
    for i in range(1, N + 1):
        a.ok("RETR %d" % i)
        b.ok("RETR %d" % i)
        ma, mb = a.multi(), b.multi()
        if wire_form(stored(i)):
            assert ma == mb, FILES[i - 1]
        body = unstuff(ma)
        if not stored(i).endswith(b"\n"):
            body = body[:-2]
        assert body == stored(i), FILES[i - 1]
    for x in (a, b):
        x.ok("QUIT")
        x.close()


def test_top_agrees_for_every_line_count():
    a, b = srv.raw(), dovecot_raw()
    for i in range(1, N + 1):
        if not wire_form(stored(i)):
            continue
        for n in TOP_LINES:
            a.ok("TOP %d %d" % (i, n))
            b.ok("TOP %d %d" % (i, n))
            ma, mb = a.multi(), b.multi()
            assert ma == mb, (FILES[i - 1], n, ma[-200:], mb[-200:])
    for x in (a, b):
        x.ok("QUIT")
        x.close()


def test_dot_stuffing_agrees():
    i = next(n for n, f in enumerate(FILES, 1) if "dot-lines" in f)
    a, b = srv.raw(), dovecot_raw()
    a.ok("RETR %d" % i)
    b.ok("RETR %d" % i)
    ma, mb = a.multi(), b.multi()
    assert ma == mb and b"\r\n.." in ma
    for x in (a, b):
        x.ok("QUIT")
        x.close()


def test_uidl_uid_parts_agree():
    a, b = srv.raw(), dovecot_raw()
    a.ok("UIDL")
    b.ok("UIDL")
    ua = [l.split(b" ")[1] for l in a.multi().split(b"\r\n") if l]
    ub = [l.split(b" ")[1] for l in b.multi().split(b"\r\n") if l]
    # The same format: the UID, then the UIDVALIDITY (which differs).
    assert [u[:8] for u in ua] == [u[:8] for u in ub]
    assert all(re.fullmatch(rb"[0-9a-f]{16}", u) for u in ua + ub), ua[:3] + ub[:3]
    for x in (a, b):
        x.ok("QUIT")
        x.close()


def test_errors_agree_in_kind():
    a, b = srv.raw(), dovecot_raw()
    for cmd in ("RETR %d" % (N + 1), "RETR 0", "TOP 1", "LIST x", "FROB"):
        ra, rb = a.cmd(cmd), b.cmd(cmd)
        assert ra.split(" ")[0] == rb.split(" ")[0] == "-ERR", (cmd, ra, rb)
    a.ok("DELE 1")
    b.ok("DELE 1")
    for cmd in ("RETR 1", "DELE 1", "LIST 1"):
        ra, rb = a.cmd(cmd), b.cmd(cmd)
        assert ra.split(" ")[0] == rb.split(" ")[0] == "-ERR", (cmd, ra, rb)
    for x in (a, b):
        x.ok("RSET")
        x.ok("QUIT")
        x.close()


run_tests(globals(), servers=[srv])
