"""Real clients over POP3: fetchmail (Debian's) fetches every message of the
account over POP3S with the certificate's fingerprint pinned, delivering
each to an MDA script that writes it to a file: once with `keep` (a second
run fetches nothing new, by UIDL), then without (the messages are deleted:
hidden from POP3, still in the store). The delivered bytes equal the stored
ones. curl lists and retrieves over pop3:// and pop3s://."""
import os
import shutil
import subprocess

from pop3test import Server, corpus_files, run_tests, TMP, stored_form

FILES = corpus_files()
N = len(FILES)
# Messages fetchmail itself changes on the way (not what we sent, which
# test_pop3_poplib checks byte for byte): it adds the empty line a header
# lacks (45, 48), makes the bare-LF header end CRLF (39) and rewrites a
# header that is not one (51). For these only the delivery is checked.
MANGLED_BY_FETCHMAIL = ("39-", "45-", "48-", "51-")
srv = Server()


def stored(i):
    """The bytes of message i (1-based) as stored (CRLF wire form)."""
    return stored_form(FILES[i - 1])


def fetchmail(name, keep):
    work = os.path.join(TMP, name)
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    mda = os.path.join(work, "mda.sh")
    with open(mda, "w") as f:
        # One file per message, numbered in delivery order.
        f.write("#!/bin/sh\nn=$(ls '%s' | wc -l)\ncat > '%s'/$(printf %%05d $((n + 1)))\n"
                % (out, out))
    os.chmod(mda, 0o755)
    rc = os.path.join(TMP, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('set invisible\n'
                'poll 127.0.0.1 protocol pop3 port %d bad-header accept\n'
                '  user "%s" password "%s" ssl sslfingerprint "%s"\n'
                '  sslcommonname "localhost" sslcertfile "%s"\n'
                '  %s no rewrite no stripcr mda "%s"\n'
                % (srv.sport, srv.user, srv.password, srv.md5_fingerprint(),
                   srv.cert_file, "keep" if keep else "no keep", mda))
    os.chmod(rc, 0o600)
    p = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--nosyslog",
                        "-i", os.path.join(TMP, "fetchids")],
                       env=dict(os.environ, HOME=TMP), capture_output=True,
                       text=True, timeout=120)
    # 0: mail fetched, 1: no mail.
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return [os.path.join(out, f) for f in sorted(os.listdir(out))]


def check_delivered(files):
    assert len(files) == N, len(files)
    for i, path in enumerate(files, 1):
        with open(path, "rb") as f:
            got = f.read()
        if os.path.basename(FILES[i - 1]).startswith(MANGLED_BY_FETCHMAIL):
            assert len(got) > 0
            continue
        assert got == stored(i), FILES[i - 1]


def test_fetchmail_keep_then_nothing_new():
    if shutil.which("fetchmail") is None:
        raise AssertionError("fetchmail is not installed: 'make test' installs it")
    check_delivered(fetchmail("keep1", keep=True))
    assert fetchmail("keep2", keep=True) == []
    p = srv.pop()
    assert p.stat()[0] == N
    p.quit()


def test_fetchmail_without_keep_deletes():
    if shutil.which("fetchmail") is None:
        raise AssertionError("fetchmail is not installed: 'make test' installs it")
    os.unlink(os.path.join(TMP, "fetchids"))
    check_delivered(fetchmail("nokeep", keep=False))
    p = srv.pop()
    assert p.stat()[0] == 0
    p.quit()
    # Hidden from POP3 only: the store still has every message.
    import json
    assert len(json.loads(srv.mv("ls", "demo/INBOX", "--json").stdout)) == N


def curl(*args):
    p = subprocess.run(["curl", "-s", "-S", "--max-time", "60", *args],
                       capture_output=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_curl_lists_and_retrieves():
    s = Server(name="curl", files=FILES[:5])
    try:
        url = "pop3://127.0.0.1:%d/" % s.port
        auth = "%s:%s" % (s.user, s.password)
        listing = curl("-u", auth, url)
        want = b"".join(b"%d %d\r\n" % (i, len(stored(i))) for i in range(1, 6))
        assert listing == want, listing
        for i in range(1, 6):
            got = curl("-u", auth, url + str(i))
            assert got == stored(i), FILES[i - 1]
        # Over implicit TLS, trusting only the store's certificate.
        got = curl("-u", auth, "--cacert", s.cert_file, "--resolve",
                   "localhost:%d:127.0.0.1" % s.sport,
                   "pop3s://localhost:%d/1" % s.sport)
        assert got == stored(1)
        # STLS, required.
        got = curl("-u", auth, "--ssl-reqd", "--cacert", s.cert_file, "--resolve",
                   "localhost:%d:127.0.0.1" % s.port,
                   "pop3://localhost:%d/2" % s.port)
        assert got == stored(2)
        # A custom command: curl ends with QUIT, so the DELE is carried
        # out and the rest are numbered from 1 again.
        curl("-u", auth, "-X", "DELE 1", "-I", url)
        want = b"".join(b"%d %d\r\n" % (i - 1, len(stored(i))) for i in range(2, 6))
        assert curl("-u", auth, url) == want
    finally:
        s.stop()


run_tests(globals(), servers=[srv])
