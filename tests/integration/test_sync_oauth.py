"""Integration: IMAP logins with an OAuth2 token (XOAUTH2, OAUTHBEARER).

Dovecot's oauth2 passdb validates JSON Web Tokens locally (HS256 under a
key the test makes); the test mints the tokens with hmac/hashlib, and the
account's oauth-token-command prints one. Shown: a sync works with the
token, by XOAUTH2 when offered and by OAUTHBEARER when that is all the
server offers; a token command that fails or prints nothing stops the run
with a sentence that says so, before anything is sent; an expired token or
one signed with another key is "authentication refused", and the account's
password is not tried instead; the token is never in the store, the
output, or a process's argv.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from dovecot import Dovecot                              # noqa: E402
from mvtest import free_port                             # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import USER, Env, compare                  # noqa: E402

# No 2 s pause after each refused login: this file refuses a few.
FAST_FAIL = ("auth_failure_delay = 0\nauth_verbose = yes\n"
             "login_trusted_networks = 127.0.0.0/8\n")
ONLY_OAUTHBEARER = "auth_mechanisms = plain login oauthbearer\n"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(key, lifetime, user=USER):
    """An HS256 JSON Web Token for user, valid for lifetime seconds from
    now (negative: expired that long ago)."""
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({
        "sub": user, "email": user, "iat": now - 600 if lifetime < 0 else now,
        "exp": now + lifetime}).encode())
    sig = hmac.new(key, (head + "." + body).encode(), hashlib.sha256)
    return head + "." + body + "." + b64url(sig.digest())


class ArgvWatch:
    """Looks at every process's argv while a sync runs, for a string."""

    def __init__(self, needle):
        self.needle = needle.encode()
        self.seen = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        if self.needle in f.read():
                            self.seen.append(pid)
                except OSError:
                    pass
            time.sleep(0.002)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.t.join()
        return False


def logins(dv, method):
    """How many logins of USER by method Dovecot's log shows."""
    return dv.log_all().count("user=<%s>, method=%s" % (USER, method))


key = os.urandom(32)
env = stop_at_end(Env("oauth", dovecot=False))
dv = Dovecot(os.path.join(env.dir, "dovecot"), imaps_port=free_port(),
             cert=env.cert, key=env.key, extra_conf=FAST_FAIL,
             oauth2_key=key)
dv.log_all = lambda: open(os.path.join(dv.root, "log")).read()
env.dv = dv
dv.start()
env.populate({"INBOX": 40, "Work": 15})
tokfile = os.path.join(env.dir, "token")
good = jwt(key, 3600)
with open(tokfile, "w") as f:
    f.write(good + "\n")
cmd = "cat '%s'" % tokfile
env.mv("account", "add", "acc", "--imap", "127.0.0.1:%d" % dv.imaps_port,
       "--user", USER, "--ca-file", env.ca.cert,
       "--oauth-token-command", cmd)


def test_sync_with_a_token_command_logs_in_by_xoauth2():
    before = logins(dv, "XOAUTH2")
    with ArgvWatch(good) as w:
        summary, p = env.sync_json("acc")
    expect(compare(env) == 55, "not every message came")
    expect(logins(dv, "XOAUTH2") == before + 1, "no XOAUTH2 login in "
           "Dovecot's log: " + dv.log()[-800:])
    expect(not w.seen, "the token was in a process's argv")
    expect(good not in p.stdout + p.stderr, "the token was printed")


def test_a_server_offering_only_oauthbearer_gets_oauthbearer():
    dv.stop()
    dv.extra_conf = FAST_FAIL + ONLY_OAUTHBEARER
    dv.start()
    r = env.remote()
    r.append("INBOX", "()", None, b"Subject: after the restart\r\n\r\nx\r\n")
    r.logout()
    before = logins(dv, "OAUTHBEARER")
    summary, p = env.sync_json("acc")
    expect(summary["fetched"] == 1, "want 1 new: %s" % summary)
    expect(compare(env) == 56, "the new message did not come")
    expect(logins(dv, "OAUTHBEARER") == before + 1, "no OAUTHBEARER "
           "login in Dovecot's log: " + dv.log()[-800:])


def test_a_failing_or_silent_token_command_is_a_clear_error_without_login():
    """A token command that fails or prints nothing: a clear error, no
    login."""
    for command, words in (("echo oops >&2; exit 3", "exit status 3"),
                           ("true", "printed no token"),
                           ("/nonexistent/token-helper", "could not "
                            "be run")):
        env.mv("account", "set", "acc", "oauth-token-command", command)
        before = dv.log_all().count("user=<%s>" % USER)
        summary, p = env.sync_json("acc", check=False)
        out = p.stdout + p.stderr
        expect(p.returncode != 0, "sync succeeded with %r" % command)
        expect("OAuth token command" in out and words in out,
               "no clear reason for %r: %s" % (command, out))
        expect(dv.log_all().count("user=<%s>" % USER) == before,
               "a login was tried without a token")
        if os.environ.get("SHOW"):
            print("   ", out.strip().splitlines()[-1])
    env.mv("account", "set", "acc", "oauth-token-command", cmd)


def test_an_expired_or_forged_token_is_refused_and_the_password_not_tried():
    """An expired or forged token is "authentication refused", and the
    password is not tried."""
    # an account with both a password and a token command: a bad
    # token must not make it try the password
    env.mv("account", "add", "both", "--imap",
           "127.0.0.1:%d" % dv.imaps_port, "--user", USER,
           "--ca-file", env.ca.cert, "--password-file", env.pwfile)
    env.mv("account", "set", "both", "oauth-token-command", cmd)
    for label, token in (("expired", jwt(key, -300)),
                         ("signed with another key",
                          jwt(os.urandom(32), 3600))):
        with open(tokfile, "w") as f:
            f.write(token + "\n")
        plain = logins(dv, "PLAIN") + logins(dv, "LOGIN")
        summary, p = env.sync_json("both", check=False)
        out = p.stdout + p.stderr
        expect(p.returncode != 0, "a %s token was accepted" % label)
        expect("authentication refused" in out, "%s token: no "
               "'authentication refused': %s" % (label, out))
        expect(token not in out, "the token was printed")
        if os.environ.get("SHOW"):
            print("   ", out.strip().splitlines()[-1])
        expect(logins(dv, "PLAIN") + logins(dv, "LOGIN") == plain,
               "the password was tried after the token was refused")
    with open(tokfile, "w") as f:
        f.write(good + "\n")


def test_the_token_is_not_in_the_store():
    store = os.path.dirname(env.env["MAILVAULT_STORE"])
    for fn in os.listdir(store):
        with open(os.path.join(store, fn), "rb") as f:
            data = f.read()
        for t in (good, good.split(".")[2]):
            expect(t.encode() not in data, "the token is in " + fn)
    p = env.mv("account", "show", "acc")
    expect(good not in p.stdout, "account show prints the token")


run_tests(globals())
