"""IMAP logins: greeting and capabilities, LOGIN, AUTHENTICATE PLAIN (with
and without SASL-IR) and CRAM-MD5, failures answered NO [AUTHENTICATIONFAILED]
after a growing delay, three failures end the connection, commands in the
wrong state, STARTTLS and implicit TLS pinned to `credentials --cert`, and
the password never in the log."""
import base64
import hashlib
import hmac
import imaplib
import socket
import ssl
import time

from imaptest import Raw, Server, run_tests, status

srv = Server(corpus=False)


def test_greeting_lists_capabilities_before_login():
    r = Raw(srv.port)
    assert r.greeting.startswith("* OK [CAPABILITY IMAP4rev1 "), r.greeting
    for cap in ("STARTTLS", "AUTH=PLAIN", "AUTH=CRAM-MD5", "SASL-IR", "LITERAL+"):
        assert cap in r.greeting, cap
    lines, t = r.cmd("CAPABILITY")
    assert lines[0].startswith("* CAPABILITY IMAP4rev1") and status(t) == "OK"
    r.close()


def test_login_gives_new_capabilities():
    r = Raw(srv.port)
    _, t = r.cmd("LOGIN demo %s" % srv.password)
    assert t.startswith("t1 OK [CAPABILITY IMAP4rev1 "), t
    for cap in ("IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "ESEARCH",
                "LIST-STATUS", "SPECIAL-USE", "NAMESPACE", "ENABLE"):
        assert cap in t, cap
    assert "AUTH=" not in t and "STARTTLS" not in t
    r.close()


def test_imaplib_login_select_logout():
    c = srv.connect()
    typ, data = c.select("INBOX")
    assert typ == "OK" and data == [b"1"], data
    assert c.logout()[0] == "BYE"


def test_wrong_password_is_refused_after_a_delay():
    r = Raw(srv.port)
    start = time.time()
    _, t = r.cmd("LOGIN demo wrongpassword")
    assert t == "t1 NO [AUTHENTICATIONFAILED] Authentication failed.", t
    first = time.time() - start
    assert first >= 0.09, first
    start = time.time()
    _, t = r.cmd('LOGIN "demo" "also wrong"')
    second = time.time() - start
    assert status(t) == "NO" and second >= 2 * 0.09, second
    # The third failure ends the connection.
    _, t = r.cmd("LOGIN nosuchuser %s" % srv.password)
    assert status(t) == "NO"
    assert r.line().startswith("* BYE ")
    r.close()


def test_unknown_user_with_the_right_password_fails():
    c = srv.connect(login=False)
    try:
        c.login("nobody", srv.password)
        raise AssertionError("login worked")
    except imaplib.IMAP4.error as e:
        assert "AUTHENTICATIONFAILED" in str(e), e


def test_login_with_literal_password():
    r = Raw(srv.port)
    r.send("a LOGIN demo {%d}\r\n" % len(srv.password))
    assert r.line().startswith("+ ")
    r.send(srv.password + "\r\n")
    _, t = r.until("a")
    assert t.startswith("a OK"), t
    r.close()


def test_authenticate_plain_with_initial_response():
    r = Raw(srv.port)
    ir = base64.b64encode(b"\0demo\0" + srv.password.encode()).decode()
    _, t = r.cmd("AUTHENTICATE PLAIN " + ir)
    assert t.startswith("t1 OK [CAPABILITY"), t
    r.close()


def test_authenticate_plain_with_continuation():
    c = srv.connect(login=False)
    typ, _ = c.authenticate("PLAIN", lambda _: b"demo\0demo\0" + srv.password.encode())
    assert typ == "OK"
    c.logout()


def test_authenticate_cancel_is_bad():
    r = Raw(srv.port)
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line().startswith("+")
    r.send("*\r\n")
    _, t = r.until("a")
    assert t.startswith("a BAD"), t
    lines, t = r.cmd("NOOP")
    assert status(t) == "OK"
    r.close()


def test_authenticate_cram_md5():
    c = srv.connect(login=False)
    typ, _ = c.login_cram_md5("demo", srv.password)
    assert typ == "OK"
    c.logout()
    r = Raw(srv.port)
    r.send("a AUTHENTICATE CRAM-MD5\r\n")
    chal = base64.b64decode(r.line()[2:])
    digest = hmac.new(b"wrong", chal, hashlib.md5).hexdigest()
    r.send(base64.b64encode(b"demo " + digest.encode()).decode() + "\r\n")
    _, t = r.until("a")
    assert t.startswith("a NO [AUTHENTICATIONFAILED]"), t
    r.close()


def test_unknown_mechanism_and_commands_in_wrong_state():
    r = Raw(srv.port)
    _, t = r.cmd("AUTHENTICATE GSSAPI")
    assert status(t) == "NO", t
    for cmd in ("SELECT INBOX", "LIST \"\" *", "FETCH 1 FLAGS", "IDLE"):
        _, t = r.cmd(cmd)
        assert status(t) == "BAD", (cmd, t)
    _, t = r.cmd("FROBNICATE")
    assert status(t) == "BAD" and "Unknown command" in t, t
    r.ok("LOGIN demo %s" % srv.password)
    _, t = r.cmd("LOGIN demo %s" % srv.password)
    assert status(t) == "BAD", t
    _, t = r.cmd("FETCH 1 FLAGS")
    assert status(t) == "BAD" and "No mailbox selected" in t, t
    r.close()


def test_starttls_then_login():
    c = srv.connect(login=False)
    ctx = srv.ssl_context()
    typ, _ = c.starttls(ssl_context=ctx)
    assert typ == "OK"
    assert "STARTTLS" not in c.capabilities
    c.login("demo", srv.password)
    assert c.select("INBOX")[0] == "OK"
    c.logout()


def test_starttls_refused_when_input_follows():
    r = Raw(srv.port)
    r.send("a STARTTLS\r\nb NOOP\r\n")
    _, t = r.until("a")
    assert t.startswith("a BAD"), t
    _, t = r.until("b")
    assert t.startswith("b OK"), t
    r.close()


def test_implicit_tls_pinned_to_the_certificate():
    c = srv.connect_ssl()
    assert c.select("INBOX")[0] == "OK"
    c.logout()
    # The fingerprint printed by credentials is the one served.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", srv.sport)) as sock:
        with ctx.wrap_socket(sock) as tls:
            der = tls.getpeercert(binary_form=True)
    fp = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
    assert fp == srv.fingerprint, (fp, srv.fingerprint)


def test_logout_says_bye():
    r = Raw(srv.port)
    lines, t = r.cmd("LOGOUT")
    assert lines == ["* BYE Logging out"] and status(t) == "OK", (lines, t)
    r.close()


def test_log_has_logins_not_passwords():
    text = srv.logtext()
    assert "logged in as demo" in text
    assert "login failed for user 'demo'" in text
    assert srv.password not in text


run_tests(globals(), [srv])
