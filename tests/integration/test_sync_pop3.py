"""Integration: POP3 accounts against a real Dovecot (dovecot-pop3d).

Fetch by UIDL over POP3S and over STLS, every message byte-exact; no
refetch on the next run; the three delete policies (keep on the server,
delete once fetched, delete N days after the fetch); APOP when the
greeting offers a timestamp, SASL PLAIN when CAPA offers it, and
USER/PASS otherwise (seen on the wire through the fault proxy, on a
loopback connection with --tls none).
"""
import hashlib
import json
import os
import poplib
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from faultproxy import FaultProxy                        # noqa: E402
from mvtest import scale                                 # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import Env                                 # noqa: E402

APOP_CONF = "auth_mechanisms = plain login apop\n"


def remote_msgs(env, user):
    """sha256 of every message in user's maildrop, via poplib."""
    p = poplib.POP3("127.0.0.1", env.dv.pop3_port)
    p.user(user)
    p.pass_("x")
    out = []
    for i in range(1, len(p.list()[1]) + 1):
        lines = p.retr(i)[1]
        out.append(hashlib.sha256(b"\r\n".join(lines) + b"\r\n").hexdigest())
    p.quit()
    return sorted(out)


def local_msgs(env, account):
    m = env.local(account)
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    m.logout()
    return sorted(hashlib.sha256(x[1]).hexdigest() for x in data
                  if isinstance(x, tuple))


def populate(env, user, n, seed):
    env.populate({"INBOX": n}, seed=seed, user=user)


def add_pop3(env, name, user, port, tls="implicit"):
    env.mv("account", "add", name, "--pop3", "127.0.0.1:%d" % port,
           "--user", user, "--tls", tls, "--ca-file", env.ca.cert,
           "--password-file", env.pwfile)


def count(env, account):
    out = env.mv("--json", "ls", account + "/INBOX").stdout
    return len(json.loads(out))


env = stop_at_end(Env("pop3", pop3=True, extra_conf=APOP_CONF))
n = scale(400)
for i, u in enumerate(("keep", "dele", "days", "stls")):
    populate(env, u, n, seed=20 + i)


def test_pop3s_fetches_all_byte_exact_by_uidl_and_keeps_them_upstream():
    """POP3S: all fetched byte-exact by UIDL, none refetched, kept on the
    server."""
    before = remote_msgs(env, "keep")
    expect(len(before) == n, "the maildrop has %d messages" % len(before))
    add_pop3(env, "pkeep", "keep", env.dv.pop3s_port)
    env.sync("pkeep")
    expect(local_msgs(env, "pkeep") == before, "messages differ")
    env.sync("pkeep")
    expect(count(env, "pkeep") == n, "refetched: %d messages" % count(
        env, "pkeep"))
    expect(remote_msgs(env, "keep") == before, "server lost mail")


def test_keep_no_deletes_from_the_server_once_fetched():
    before = remote_msgs(env, "dele")
    add_pop3(env, "pdele", "dele", env.dv.pop3s_port)
    env.mv("account", "set", "pdele", "keep", "no")
    env.sync("pdele")
    expect(local_msgs(env, "pdele") == before, "messages differ")
    expect(remote_msgs(env, "dele") == [], "left on the server")


def test_delete_after_days_keeps_for_now_and_deletes_3_days_later():
    before = remote_msgs(env, "days")
    add_pop3(env, "pdays", "days", env.dv.pop3s_port)
    env.mv("account", "set", "pdays", "delete-after-days", "2")
    env.sync("pdays")
    env.sync("pdays")
    expect(remote_msgs(env, "days") == before, "deleted too early")
    # three days pass: move the fetch times back
    db = sqlite3.connect(env.env["MAILVAULT_STORE"])
    db.execute("UPDATE sync_pop3 SET fetched = fetched - 3 * 86400")
    db.commit()
    db.close()
    env.sync("pdays")
    expect(remote_msgs(env, "days") == [], "not deleted after 3 days")
    expect(local_msgs(env, "pdays") == before, "local copy lost")


def test_stls_and_apop_when_the_greeting_has_a_timestamp():
    fp = stop_at_end(FaultProxy(env.dv.pop3_port).start())
    add_pop3(env, "pstls", "stls", fp.port, tls="starttls")
    env.sync("pstls")
    expect(count(env, "pstls") == n, "not all fetched")
    expect("method=APOP" in env.dv.log(), "APOP not used: " +
           env.dv.log()[-600:])
    sent = b"".join(fp.sent)
    expect(b"APOP" not in sent and b"PASS" not in sent, "login in clear")


# SASL PLAIN, then USER/PASS (the proxy hides the SASL line of CAPA),
# seen in clear on loopback, against a Dovecot without APOP.
PLAIN = {}


def plain_env():
    if not PLAIN:
        PLAIN["env"] = stop_at_end(Env("pop3-plain", pop3=True))
    return PLAIN["env"]


def login_mech(user, want):
    env2 = plain_env()
    populate(env2, user, 5, seed=40)
    fp = stop_at_end(FaultProxy(env2.dv.pop3_port))
    if user == "userpass":
        fp.rewrite = [(b"SASL PLAIN LOGIN\r\n", b"X-NONE\r\n")]
    fp.start()
    add_pop3(env2, user, user, fp.port, tls="none")
    env2.sync(user)
    expect(count(env2, user) == 5, "not all fetched")
    sent = b"".join(fp.sent)
    expect(want in sent and b"APOP" not in sent, "%r not used: %r"
           % (want, sent[:300]))


def test_sasl_plain_when_that_is_what_the_server_offers():
    login_mech("plainuser", b"AUTH PLAIN")


def test_user_pass_when_that_is_what_the_server_offers():
    login_mech("userpass", b"USER userpass")


run_tests(globals())
