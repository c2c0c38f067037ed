"""The daemon's whole life cycle with a locked start (issues 6 and 16):
init, account add (a real Dovecot upstream), `daemon start` with no
passphrase and no terminal starts LOCKED. A store from before the TLS
files beside it (removed here) has no TLS while locked: IMAP logins get
NO [UNAVAILABLE] with the unlock hint, POP3 -ERR [SYS/TEMP], the IMAPS
port closes at once; a wrong passphrase to `unlock` is an error and it
stays locked; `unlock` opens it and writes the certificate and key
beside the store (0600): a client that connected while locked logs in,
imaplib sees the upstream mail, new upstream mail reaches an IDLE client
without any CLI call, status shows it and the next sync time; `config
set poll-interval` reaches the running daemon; `lock` ends the sessions
(the IDLE client gets BYE) and logins are refused again. From then on
TLS works while locked, as mail clients need to show why they cannot log
in: STARTTLS and STLS are offered, IMAPS and POP3S handshake with the
store's certificate, and LOGIN gets NO [UNAVAILABLE] 'mailvault is
locked: run "mailvault unlock"' (POP3 -ERR [SYS/TEMP]) over TLS, also
after the daemon is started again locked; `daemon stop` leaves no
process and no socket."""
import hashlib
import imaplib
import json
import os
import poplib
import socket
import ssl
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import alive, free_port, wait_for            # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import Env                                 # noqa: E402

MSG = (b"From: Upstream <up@example.org>\r\nTo: bob@example.org\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody\r\n")
HINT = 'mailvault is locked: run "mailvault unlock"'

env = stop_at_end(Env("lock"))
env.env["MAILVAULT_AUTH_DELAY_MS"] = "10"
ports = {"imap": free_port(), "imaps": free_port(), "pop3": free_port(),
         "pop3s": free_port()}
for _k in ports:
    env.mv("config", "set", _k + "-port", str(ports[_k]))
# A store from before TLS while locked: no certificate or key beside it.
CERT_FILE = env.path + ".cert.pem"
KEY_FILE = env.path + ".key.pem"
os.unlink(CERT_FILE)
os.unlink(KEY_FILE)
env.add_imap()
up = env.remote()
up.append("INBOX", None, None, MSG % (b"first", b"m1"))
passfile = env.env["MAILVAULT_PASSPHRASE_FILE"]
# The daemon gets neither a passphrase nor a terminal to ask on.
locked_env = dict(env.env)
del locked_env["MAILVAULT_PASSPHRASE_FILE"]
ctl = env.ctl
log = env.log
state = {}


def mv(*args, check=True, use_env=None):
    """The CLI in a session of its own: no controlling terminal."""
    return env.mv(*args, check=check, env=use_env, timeout=120,
                  start_new_session=True)


stop_at_end(lambda: mv("daemon", "stop", check=False))


def password():
    return json.loads(mv("--json", "credentials").stdout)["password"]


def status():
    return json.loads(mv("--json", "status", use_env=locked_env).stdout)


def test_daemon_starts_locked_without_passphrase():
    p = mv("daemon", "start", use_env=locked_env)
    expect("locked" in p.stdout, p.stdout)
    state["pid"] = int(p.stdout.split("(pid ")[1].split(")")[0])
    j = status()
    expect(j["state"] == "running" and j["locked"] is True, j)
    expect("accounts" not in j, "a locked daemon showed the store")
    expect(j["ports"]["imap"] == ports["imap"] and
           j["ports"]["pop3"] == ports["pop3"], j)
    p = mv("daemon", "status", use_env=locked_env)
    expect(p.stdout.strip().endswith(", locked"), p.stdout)
    expect("state: locked" in mv("status", use_env=locked_env).stdout,
           "text status")


def test_old_store_locked_refuses_imap_pop3_and_tls_logins():
    m = imaplib.IMAP4("127.0.0.1", ports["imap"])
    expect("STARTTLS" not in m.capabilities, m.capabilities)
    try:
        m.login("acc", "whatever")
        raise AssertionError("a locked daemon took a login")
    except imaplib.IMAP4.error as e:
        expect("[UNAVAILABLE]" in str(e) and HINT in str(e), str(e))
    state["early"] = m      # logs in after the unlock
    s = socket.create_connection(("127.0.0.1", ports["imap"]), 5)
    s.recv(4096)
    s.sendall(b"a AUTHENTICATE PLAIN\r\n")
    got = s.recv(4096).decode()
    expect(got.startswith("a NO [UNAVAILABLE]") and HINT in got, got)
    s.close()
    p = poplib.POP3("127.0.0.1", ports["pop3"], timeout=5)
    try:
        p.user("acc")
        raise AssertionError("POP3 USER was taken while locked")
    except poplib.error_proto as e:
        expect(str(e).startswith("b'-ERR [SYS/TEMP] " + HINT), str(e))
    p.quit()
    t = socket.create_connection(("127.0.0.1", ports["imaps"]), 5)
    t.settimeout(5)
    expect(t.recv(100) == b"", "the IMAPS port did not close")
    t.close()
    wait_for(lambda: "closed a connection: mailvault is locked" in
             open(log).read(), 5, "the refusal in the log")


def test_unlock_with_a_wrong_passphrase_stays_locked():
    bad = os.path.join(env.dir, "bad")
    with open(bad, "w") as f:
        f.write("not the passphrase\n")
    p = mv("--passphrase-file", bad, "unlock", check=False)
    expect(p.returncode != 0 and "wrong passphrase" in p.stderr,
           p.stderr)
    expect(status()["locked"] is True, "unlocked by a wrong one")


def test_unlock_then_imaplib_sees_upstream_mail():
    p = mv("--passphrase-file", passfile, "unlock")
    expect("unlocked" in p.stdout, p.stdout)
    expect(status()["locked"] is False, "still locked")
    for path in (CERT_FILE, KEY_FILE):
        expect(os.path.exists(path), "the unlock did not write " + path)
        expect(stat.S_IMODE(os.stat(path).st_mode) == 0o600, path)
    pw = password()
    m = state["early"]
    m.login("acc", pw)      # connected while locked
    m.logout()
    m = imaplib.IMAP4("127.0.0.1", ports["imap"])
    expect("STARTTLS" in m.capabilities, m.capabilities)
    m.login("acc", pw)

    def synced():
        typ, data = m.select("INBOX")
        return typ == "OK" and int(data[0]) == 1
    wait_for(synced, 20, "the upstream mail")
    state["imap"] = m


def test_new_upstream_mail_reaches_an_idle_client():
    m = state["imap"]
    m.send(b"i1 IDLE\r\n")
    expect(m.readline().startswith(b"+"), "no IDLE continuation")
    t = time.time()
    up.append("INBOX", None, None, MSG % (b"second", b"m2"))
    m.sock.settimeout(20)
    line = m.readline()
    while b"EXISTS" not in line:
        line = m.readline()
    expect(line.strip() == b"* 2 EXISTS", line)
    print("    new upstream mail reached IDLE in %.1f s" %
          (time.time() - t))


def test_status_shows_new_mail_and_next_sync():
    def seen():
        acct = status()["accounts"][0]
        box = [f for f in acct["folders"] if f["name"] == "INBOX"][0]
        return box["messages"] == 2 and not acct["syncing"]
    wait_for(seen, 10, "status to show the new mail")
    acct = status()["accounts"][0]
    expect(acct["last_error"] == "" and acct["next_sync"] is not None,
           acct)
    expect(acct["next_sync"].endswith("Z"), acct)
    out = mv("status").stdout
    expect("next sync: by " in out and "state: unlocked" in out, out)


def test_config_set_poll_interval_reaches_the_daemon():
    p = mv("config", "set", "poll-interval", "45")
    expect("running daemon took it" in p.stdout and
           "poll-interval 45 s" in p.stdout, p.stdout)
    wait_for(lambda: "settings reloaded: poll-interval 45 s" in
             open(log).read(), 5, "the reload in the log")
    acct = status()["accounts"][0]
    nxt = time.mktime(time.strptime(acct["next_sync"],
                                    "%Y-%m-%dT%H:%M:%SZ"))
    nxt -= time.timezone
    expect(nxt - time.time() <= 46, "next sync %s" % acct["next_sync"])


def test_lock_says_bye_and_refuses_logins():
    m = state["imap"]
    p3 = poplib.POP3("127.0.0.1", ports["pop3"], timeout=10)
    p3.user("acc")
    p3.pass_(password())
    p = mv("lock")
    expect("locked" in p.stdout, p.stdout)
    m.sock.settimeout(10)
    line = m.readline()
    while line.startswith(b"* ") and not line.startswith(b"* BYE"):
        line = m.readline()     # updates still due (RECENT ...)
    expect(line.startswith(b"* BYE") and b"unlock" in line,
           "no BYE saying how to unlock: %r" % line)
    line = p3.file.readline()
    expect(line.startswith(b"-ERR [SYS/TEMP]") and b"unlock" in line,
           "POP3 was not told of the lock: %r" % line)
    p3.close()
    expect(status()["locked"] is True, "not locked")
    m2 = imaplib.IMAP4("127.0.0.1", ports["imap"])
    try:
        m2.login("acc", password())
        raise AssertionError("a login after lock was taken")
    except imaplib.IMAP4.error as e:
        expect(HINT in str(e), str(e))
    m2.logout()
    p = mv("sync", "acc", check=False)
    expect(p.returncode != 0 and "locked" in p.stderr, p.stderr)


def tls_context():
    """Trusting the store's certificate from the file beside it, as a
    client given it with CertificateFile does."""
    ctx = ssl.create_default_context(cafile=CERT_FILE)
    ctx.check_hostname = False      # it names localhost and 127.0.0.1
    return ctx


def peer_fingerprint(sock):
    der = sock.getpeercert(binary_form=True)
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def expect_locked_login(m, how):
    try:
        m.login("acc", "whatever")
        raise AssertionError("a locked daemon took a login (%s)" % how)
    except imaplib.IMAP4.error as e:
        expect("[UNAVAILABLE]" in str(e) and HINT in str(e),
               "%s: %s" % (how, e))


def expect_locked_pop3(p, how):
    try:
        p.user("acc")
        raise AssertionError("POP3 USER was taken while locked (%s)" % how)
    except poplib.error_proto as e:
        expect(str(e).startswith("b'-ERR [SYS/TEMP] " + HINT),
               "%s: %s" % (how, e))


def check_tls_while_locked():
    fp = json.loads(mv("--json", "credentials").stdout)["fingerprint"]
    m = imaplib.IMAP4("127.0.0.1", ports["imap"])
    expect("STARTTLS" in m.capabilities, m.capabilities)
    m.starttls(ssl_context=tls_context())
    expect(peer_fingerprint(m.sock) == fp, "another certificate")
    expect_locked_login(m, "STARTTLS")
    m.logout()
    m = imaplib.IMAP4_SSL("127.0.0.1", ports["imaps"],
                          ssl_context=tls_context())
    expect(peer_fingerprint(m.sock) == fp, "another certificate (IMAPS)")
    expect_locked_login(m, "IMAPS")
    m.logout()
    p = poplib.POP3("127.0.0.1", ports["pop3"], timeout=10)
    p.stls(context=tls_context())
    expect_locked_pop3(p, "STLS")
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", ports["pop3s"], timeout=10,
                        context=tls_context())
    expect_locked_pop3(p, "POP3S")
    p.quit()


def test_tls_works_while_locked_after_a_lock():
    expect(status()["locked"] is True, "not locked")
    check_tls_while_locked()


def test_tls_works_in_a_daemon_started_locked():
    mv("daemon", "stop")
    p = mv("daemon", "start", use_env=locked_env)
    expect("locked" in p.stdout, p.stdout)
    check_tls_while_locked()
    text = open(log).read()
    expect("certificate SHA-256 fingerprint" in text.split(
        "daemon started")[-1], "the locked daemon did not log it")


def test_stop_leaves_no_process_and_no_socket():
    pid = status()["pid"]
    mv("daemon", "stop")
    expect(not alive(state["pid"]) and not alive(pid),
           "the daemon still runs")
    expect(not os.path.exists(ctl), "the socket is left behind")
    text = open(log).read()
    expect(text[:4].isdigit() and "Z mailvault: " in text,
           "log lines are not stamped: %r" % text[:80])


run_tests(globals())
