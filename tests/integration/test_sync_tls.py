"""Integration: TLS to the upstream fails safe, with a clear message.

Against real Dovecots (each with its own certificate), through the fault
proxy so that every byte the client sends is seen: a certificate for
another host, a certificate from an unknown CA, a pin that does not
match, and a server that does not offer STARTTLS each make `mailvault
sync` fail with a sentence that says what is wrong (and the fingerprint
seen, so it can be pinned), and the password never crosses the wire. A
matching pin works without any CA; --tls none to a non-loopback host is
refused.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from dovecot import Dovecot                              # noqa: E402
from faultproxy import FaultProxy                        # noqa: E402
from mvtest import free_port                             # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from testca import TestCA, fingerprint                   # noqa: E402
from upstream import USER, Env                           # noqa: E402

SECRET = "s3cret-Passw0rd-9f2c"


def dovecot(env, name, cert=None, key=None):
    dv = Dovecot(os.path.join(env.dir, name), imaps_port=free_port() if cert
                 else 0, password=SECRET, cert=cert, key=key)
    stop_at_end(dv)
    dv.start()
    return dv


env = stop_at_end(Env("tls", dovecot=False))
with open(env.pwfile, "w") as f:
    f.write(SECRET + "\n")
wrong_cert, wrong_key = env.ca.server("wrong", names=["wrong.example.org"],
                                      ips=())
good_cert, good_key = env.ca.server("good")
other = TestCA(os.path.join(env.dir, "other-ca"), name="some other CA")
dv_wrong = dovecot(env, "dv-wrong", wrong_cert, wrong_key)
dv_good = dovecot(env, "dv-good", good_cert, good_key)
dv_plain = dovecot(env, "dv-plain")


def via_proxy(port):
    return stop_at_end(FaultProxy(port).start())


def add(name, fp, *extra, host="localhost", tls="implicit", bad=False):
    """Add the account; a bad one's check (account add tries TLS and the
    login first) must fail and save nothing, then --no-check saves it
    for the sync to fail on. The proxy sees the check's bytes too."""
    args = ["account", "add", name, "--imap", "%s:%d" % (host, fp.port),
            "--user", USER, "--tls", tls, "--password-file", env.pwfile,
            *extra]
    if bad:
        p = env.mv(*args, check=False)
        expect(p.returncode != 0 and "Nothing was saved" in p.stderr,
               "account add %s: %s" % (name, p.stdout + p.stderr))
        args.append("--no-check")
    env.mv(*args)


def fails(name, fp, *words):
    p = env.sync(name, check=False)
    out = p.stdout + p.stderr
    expect(p.returncode != 0, "sync %s succeeded" % name)
    for w in words:
        expect(w.lower() in out.lower(), "message lacks %r: %s" % (
            w, out.strip()[-400:]))
    for b in fp.sent:
        expect(SECRET.encode() not in b, "the password went out")
        expect(b"LOGIN" not in b and b"AUTHENTICATE" not in b,
               "a login went out in plain text")
    return out


def test_a_certificate_for_another_host_is_refused_with_its_fingerprint():
    fp = via_proxy(dv_wrong.imaps_port)
    add("wronghost", fp, "--ca-file", env.ca.cert, bad=True)
    fails("wronghost", fp, "wrong.example.org", fingerprint(wrong_cert))


def test_a_certificate_from_an_unknown_ca_is_refused():
    fp = via_proxy(dv_good.imaps_port)
    add("unknownca", fp, "--ca-file", other.cert, bad=True)
    fails("unknownca", fp, "certificate", fingerprint(good_cert))


def test_the_system_cas_do_not_trust_the_test_ca():
    fp = via_proxy(dv_good.imaps_port)
    add("systemca", fp, bad=True)
    fails("systemca", fp, "certificate")


def test_a_pin_that_does_not_match_is_refused_both_fingerprints_shown():
    fp = via_proxy(dv_good.imaps_port)
    add("badpin", fp, "--pin-sha256", fingerprint(wrong_cert), bad=True)
    fails("badpin", fp, fingerprint(good_cert))


def test_a_matching_pin_is_enough_without_any_ca():
    fp = via_proxy(dv_good.imaps_port)
    add("goodpin", fp, "--pin-sha256", fingerprint(good_cert))
    env.sync("goodpin")


def test_a_server_without_starttls_is_refused_before_any_login():
    fp = via_proxy(dv_plain.imap_port)
    add("nostarttls", fp, "--ca-file", env.ca.cert, tls="starttls",
        bad=True)
    fails("nostarttls", fp, "STARTTLS")
    # Per connection (the check's, then the sync's): at most CAPABILITY.
    for sent in fp.sent:
        expect(sent in (b"", b"t1 CAPABILITY\r\n"), "sent in plain text: "
               "%r" % sent)


def test_starttls_with_a_good_certificate_never_sends_the_password_clear():
    fp = via_proxy(dv_good.imap_port)
    add("starttls", fp, "--ca-file", env.ca.cert, tls="starttls")
    env.sync("starttls")
    expect(SECRET.encode() not in b"".join(fp.sent), "password seen")


def test_tls_none_is_refused_for_a_non_loopback_host():
    p = env.mv("account", "add", "farplain", "--imap", "192.0.2.1:143",
               "--user", USER, "--tls", "none", "--password-file",
               env.pwfile, check=False)
    if p.returncode == 0:
        p = env.sync("farplain", check=False)
    expect(p.returncode != 0, "plain text to 192.0.2.1 was accepted")
    expect("this machine" in (p.stdout + p.stderr) or "loopback" in (
        p.stdout + p.stderr), "no reason: " +
           p.stderr)


run_tests(globals())
