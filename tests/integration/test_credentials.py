"""Client setup (issue 16, item 10): `credentials` shows the running
server's ports (serve started with other ports than the settings) and
else the settings; a new certificate names DNS:127.0.0.1 beside
localhost and the IP entries; the certificate file beside the store is
the certificate `--cert` prints; `--renew-cert` makes a new one;
`credentials --for mbsync` and `--for fetchmail` print settings that the
real mbsync and fetchmail use as printed (only the local side, a Maildir
and an MDA, is added); `--for thunderbird` names the values to type and
the fingerprint; `--for neomutt` is checked by neomutt when installed."""
import json
import os
import shutil
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import CORPUS, Store, free_port                # noqa: E402
from runner import expect, run_tests, skip, stop_at_end    # noqa: E402

st = stop_at_end(Store("creds"))
EMLS = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))[:5]
for name in EMLS:
    st.mv("import", "my acct", os.path.join(CORPUS, name), "--format",
          "eml", "--quiet")
ports = {"imap": free_port(), "imaps": free_port(), "pop3": free_port(),
         "pop3s": free_port()}


def creds(*args):
    return json.loads(st.mv("--json", "credentials", *args).stdout)


def snippet(client):
    return st.mv("credentials", "--for", client).stdout


def test_without_a_server_the_settings_are_shown():
    j = creds()
    expect(j["ports_from"] == "config" and j["imap_port"] == 1143 and
           j["imaps_port"] == 1993, j)
    out = st.mv("credentials").stdout
    expect("ports of the settings" in out, out)


def test_the_running_servers_ports_are_shown():
    st.serve(imap=ports["imap"], imaps=ports["imaps"], pop3s=ports["pop3s"])
    j = creds()
    expect(j["ports_from"] == "daemon", j)
    expect((j["imap_port"], j["imaps_port"], j["pop3_port"],
            j["pop3s_port"]) == (ports["imap"], ports["imaps"], 0,
                                 ports["pop3s"]), j)
    out = st.mv("credentials").stdout
    expect("IMAPS port: %d (TLS)" % ports["imaps"] in out and
           "ports of the running daemon" in out and "POP3 port" not in out,
           out)


def test_the_certificate_names_127_0_0_1_as_a_dns_name():
    path = creds()["certificate_file"]
    expect(path == st.path + ".cert.pem", path)
    with open(path) as f:
        expect(f.read() == st.mv("credentials", "--cert").stdout,
               "the file is not the certificate --cert prints")
    san = ssl._ssl._test_decode_cert(path)["subjectAltName"]
    for entry in (("DNS", "localhost"), ("DNS", "127.0.0.1"),
                  ("IP Address", "127.0.0.1")):
        expect(entry in san, "%s missing from %s" % (entry, san))
    expect("should use localhost" not in st.mv("credentials").stdout,
           "a new certificate needs no localhost hint")


def test_mbsync_uses_its_settings_as_printed():
    if shutil.which("mbsync") is None:
        raise AssertionError("mbsync is not installed: 'make test' "
                             "installs it")
    text = snippet("mbsync")
    expect("Port %d" % ports["imaps"] in text and "SSLType IMAPS" in text
           and 'User "my acct"' in text, text)
    work = os.path.join(st.dir, "mbsync")
    maildir = os.path.join(work, "maildir")
    os.makedirs(maildir)
    rc = os.path.join(work, "mbsyncrc")
    with open(rc, "w") as f:
        f.write(text + """
MaildirStore local
Path {m}/
Inbox {m}/INBOX

Channel mailvault
Far :mailvault-my-acct:
Near :local:
Patterns INBOX
Create Near
SyncState *
Sync Pull
""".format(m=maildir))
    os.chmod(rc, 0o600)
    p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True,
                       text=True, timeout=120)
    expect(p.returncode == 0, "mbsync failed: %s %s" % (p.stdout, p.stderr))
    got = os.listdir(os.path.join(maildir, "INBOX", "cur")) + os.listdir(
        os.path.join(maildir, "INBOX", "new"))
    expect(len(got) == len(EMLS), "mbsync fetched %d of %d" % (
        len(got), len(EMLS)))


def test_fetchmail_uses_its_poll_line_as_printed():
    if shutil.which("fetchmail") is None:
        raise AssertionError("fetchmail is not installed: 'make test' "
                             "installs it")
    text = snippet("fetchmail")
    expect('poll "127.0.0.1" protocol pop3 port %d' % ports["pop3s"] in text
           and "sslfingerprint" in text and "sslcommonname" not in text,
           text)
    got = fetchmail(text, os.path.join(st.dir, "fetchmail"))
    expect(len(got) == len(EMLS), "fetchmail delivered %d of %d" % (
        len(got), len(EMLS)))


def fetchmail(text, work):
    """Run fetchmail with rc text as printed, delivering through an MDA
    into work/out; the delivered files."""
    out = os.path.join(work, "out")
    os.makedirs(out)
    mda = os.path.join(work, "mda.sh")
    with open(mda, "w") as f:
        f.write("#!/bin/sh\nn=$(ls '%s' | wc -l)\ncat > '%s'/$((n + 1))\n"
                % (out, out))
    os.chmod(mda, 0o755)
    rc = os.path.join(work, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(text)
    os.chmod(rc, 0o600)
    # Only the local side comes from the command line: where mail goes.
    p = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--nosyslog",
                        "-i", os.path.join(work, "ids"), "--mda", mda],
                       env=dict(os.environ, HOME=work), capture_output=True,
                       text=True, timeout=120)
    expect(p.returncode == 0, "fetchmail failed (%d): %s %s" % (
        p.returncode, p.stdout, p.stderr))
    return os.listdir(out)


def test_a_host_the_certificate_does_not_name_gets_localhost():
    """Served on ::1, which the certificate names only as an IP: the
    clients that match DNS names are told to expect localhost, and
    fetchmail's poll line works as printed."""
    if shutil.which("fetchmail") is None:
        raise AssertionError("fetchmail is not installed")
    six = stop_at_end(Store("creds6"))
    six.mv("import", "other", os.path.join(CORPUS, EMLS[0]), "--format",
           "eml", "--quiet")
    stop_at_end(lambda: six.mv("daemon", "stop", check=False))
    p6 = free_port()
    six.mv("daemon", "start", "--listen", "::1", "--imap-port", "0",
           "--imaps-port", "0", "--pop3-port", "0", "--pop3s-port", str(p6))
    out = six.mv("credentials").stdout
    expect("Host: ::1" in out and "should use localhost" in out, out)
    text = six.mv("credentials", "--for", "fetchmail").stdout
    expect('sslcommonname "localhost"' in text and
           "port %d" % p6 in text, text)
    work = os.path.join(six.dir, "fetchmail")
    got = fetchmail(text, work)
    expect(len(got) == 1, "fetchmail delivered %d of 1" % len(got))
    six.mv("daemon", "stop")


def test_thunderbird_gets_the_values_to_type():
    text = snippet("thunderbird")
    for want in ("Hostname:               127.0.0.1",
                 "Port:                   %d" % ports["imaps"],
                 "Connection security:    SSL/TLS",
                 "Username:               my acct",
                 "Password:               " + st.password, st.fingerprint):
        expect(want in text, "%r missing from:\n%s" % (want, text))


def test_neomutt_reads_its_settings():
    text = snippet("neomutt")
    expect('set folder = "imaps://127.0.0.1:%d/"' % ports["imaps"] in text
           and 'set imap_user = "my acct"' in text, text)
    if shutil.which("neomutt") is None:
        skip("neomutt is not installed")
    rc = os.path.join(st.dir, "neomuttrc")
    with open(rc, "w") as f:
        f.write(text)
    p = subprocess.run(["neomutt", "-n", "-F", rc, "-Q", "folder"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0 and "imaps://127.0.0.1" in p.stdout,
           p.stdout + p.stderr)


def test_for_an_unknown_client_or_account():
    p = st.fails("an unknown client", "credentials", "--for", "outlook")
    expect("thunderbird, neomutt, mbsync and fetchmail" in p.stderr,
           p.stderr)
    st.fails("an unknown account", "credentials", "--for", "mbsync",
             "--account", "nope")


def test_renew_cert_makes_a_new_one():
    old = creds()["fingerprint"]
    p = st.mv("credentials", "--renew-cert")
    expect("a new certificate" in p.stderr and "must trust" in p.stderr,
           p.stderr)
    new = creds()["fingerprint"]
    expect(new != old, "the fingerprint did not change")
    with open(st.path + ".cert.pem") as f:
        expect(f.read() == st.mv("credentials", "--cert").stdout,
               "the file was not rewritten")


run_tests(globals())
