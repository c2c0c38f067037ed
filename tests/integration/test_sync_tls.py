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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sync_imap import (Env, Results, expect, USER,  # noqa: E402
                            Dovecot, free_port, fingerprint)
from faultproxy import FaultProxy                       # noqa: E402

SECRET = "s3cret-Passw0rd-9f2c"


def dovecot(env, name, cert=None, key=None):
    dv = Dovecot(os.path.join(env.dir, name), imaps_port=free_port() if cert
                 else 0, password=SECRET, cert=cert, key=key)
    dv.start()
    return dv


def main():
    res = Results()
    env = Env("tls", dovecot=False)
    with open(env.pwfile, "w") as f:
        f.write(SECRET + "\n")
    wrong_cert, wrong_key = env.ca.server("wrong", names=["wrong.example.org"],
                                          ips=())
    good_cert, good_key = env.ca.server("good")
    from testca import TestCA
    other = TestCA(os.path.join(env.dir, "other-ca"), name="some other CA")
    dv_wrong = dovecot(env, "dv-wrong", wrong_cert, wrong_key)
    dv_good = dovecot(env, "dv-good", good_cert, good_key)
    dv_plain = dovecot(env, "dv-plain")
    proxies = []

    def via_proxy(port):
        fp = FaultProxy(port).start()
        proxies.append(fp)
        return fp

    def add(name, fp, *extra, host="localhost", tls="implicit"):
        env.mv("account", "add", name, "--imap", "%s:%d" % (host, fp.port),
               "--user", USER, "--tls", tls, "--password-file", env.pwfile,
               *extra)

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

    def wrong_host():
        fp = via_proxy(dv_wrong.imaps_port)
        add("wronghost", fp, "--ca-file", env.ca.cert)
        fails("wronghost", fp, "wrong.example.org", fingerprint(wrong_cert))
    res.check("a certificate for another host name is refused, with its "
              "fingerprint", wrong_host)

    def unknown_ca():
        fp = via_proxy(dv_good.imaps_port)
        add("unknownca", fp, "--ca-file", other.cert)
        fails("unknownca", fp, "certificate", fingerprint(good_cert))
    res.check("a certificate from an unknown CA is refused", unknown_ca)

    def system_cas():
        fp = via_proxy(dv_good.imaps_port)
        add("systemca", fp)
        fails("systemca", fp, "certificate")
    res.check("the system CAs do not trust the test CA", system_cas)

    def pin_mismatch():
        fp = via_proxy(dv_good.imaps_port)
        add("badpin", fp, "--pin-sha256", fingerprint(wrong_cert))
        fails("badpin", fp, fingerprint(good_cert))
    res.check("a pin that does not match is refused, both fingerprints "
              "shown", pin_mismatch)

    def pin_match():
        fp = via_proxy(dv_good.imaps_port)
        add("goodpin", fp, "--pin-sha256", fingerprint(good_cert))
        env.sync("goodpin")
    res.check("a matching pin is enough, without any CA", pin_match)

    def no_starttls():
        fp = via_proxy(dv_plain.imap_port)
        add("nostarttls", fp, "--ca-file", env.ca.cert, tls="starttls")
        fails("nostarttls", fp, "STARTTLS")
        sent = b"".join(fp.sent)
        expect(sent in (b"", b"t1 CAPABILITY\r\n"), "sent in plain text: %r"
               % sent)
    res.check("a server without STARTTLS is refused before any login",
              no_starttls)

    def starttls_works():
        fp = via_proxy(dv_good.imap_port)
        add("starttls", fp, "--ca-file", env.ca.cert, tls="starttls")
        env.sync("starttls")
        expect(SECRET.encode() not in b"".join(fp.sent), "password seen")
    res.check("STARTTLS with a good certificate works, password never in "
              "clear", starttls_works)

    def plain_not_loopback():
        p = env.mv("account", "add", "farplain", "--imap", "192.0.2.1:143",
                   "--user", USER, "--tls", "none", "--password-file",
                   env.pwfile, check=False)
        if p.returncode == 0:
            p = env.sync("farplain", check=False)
        expect(p.returncode != 0, "plain text to 192.0.2.1 was accepted")
        expect("this machine" in (p.stdout + p.stderr) or "loopback" in (
            p.stdout + p.stderr), "no reason: " +
               p.stderr)
    res.check("--tls none is refused for a non-loopback host",
              plain_not_loopback)

    for fp in proxies:
        fp.stop()
    for dv in (dv_wrong, dv_good, dv_plain):
        dv.stop()
    env.stop()
    res.finish()


if __name__ == "__main__":
    main()
