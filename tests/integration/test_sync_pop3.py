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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sync_imap import Env, Results, expect, scale, USER  # noqa: E402
from faultproxy import FaultProxy                            # noqa: E402

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


def main():
    res = Results()
    env = Env("pop3", pop3=True, extra_conf=APOP_CONF)
    n = scale(400)
    for i, u in enumerate(("keep", "dele", "days", "stls")):
        populate(env, u, n, seed=20 + i)

    def keep():
        before = remote_msgs(env, "keep")
        expect(len(before) == n, "the maildrop has %d messages" % len(before))
        add_pop3(env, "pkeep", "keep", env.dv.pop3s_port)
        env.sync("pkeep")
        expect(local_msgs(env, "pkeep") == before, "messages differ")
        env.sync("pkeep")
        expect(count(env, "pkeep") == n, "refetched: %d messages" % count(
            env, "pkeep"))
        expect(remote_msgs(env, "keep") == before, "server lost mail")
    res.check("POP3S: all fetched byte-exact by UIDL, none refetched, kept "
              "on the server", keep)

    def delete_at_once():
        before = remote_msgs(env, "dele")
        add_pop3(env, "pdele", "dele", env.dv.pop3s_port)
        env.mv("account", "set", "pdele", "keep", "no")
        env.sync("pdele")
        expect(local_msgs(env, "pdele") == before, "messages differ")
        expect(remote_msgs(env, "dele") == [], "left on the server")
    res.check("keep no: deleted from the server once fetched",
              delete_at_once)

    def delete_after_days():
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
    res.check("delete-after-days 2: kept for now, deleted 3 days later",
              delete_after_days)

    def stls_and_apop():
        fp = FaultProxy(env.dv.pop3_port).start()
        add_pop3(env, "pstls", "stls", fp.port, tls="starttls")
        env.sync("pstls")
        expect(count(env, "pstls") == n, "not all fetched")
        expect("method=APOP" in env.dv.log(), "APOP not used: " +
               env.dv.log()[-600:])
        sent = b"".join(fp.sent)
        expect(b"APOP" not in sent and b"PASS" not in sent, "login in clear")
        fp.stop()
    res.check("STLS, and APOP when the greeting has a timestamp",
              stls_and_apop)
    env.stop()

    # SASL PLAIN, then USER/PASS (the proxy hides the SASL line of CAPA),
    # seen in clear on loopback
    env2 = Env("pop3-plain", pop3=True)
    for user, want, label in (("plainuser", b"AUTH PLAIN", "SASL PLAIN"),
                              ("userpass", b"USER userpass", "USER/PASS")):
        populate(env2, user, 5, seed=40)

        def mech(env2=env2, want=want, user=user):
            fp = FaultProxy(env2.dv.pop3_port)
            if user == "userpass":
                fp.rewrite = [(b"SASL PLAIN LOGIN\r\n", b"X-NONE\r\n")]
            fp.start()
            add_pop3(env2, user, user, fp.port, tls="none")
            env2.sync(user)
            expect(count(env2, user) == 5, "not all fetched")
            sent = b"".join(fp.sent)
            expect(want in sent and b"APOP" not in sent, "%r not used: %r"
                   % (want, sent[:300]))
            fp.stop()
        res.check("%s when that is what the server offers" % label, mech)
    env2.stop()
    res.finish()


if __name__ == "__main__":
    main()
