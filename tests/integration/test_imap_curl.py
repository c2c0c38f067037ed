"""A real client: curl's IMAP support against `mailvault serve`. It lists
mailboxes (imap://host:port/), fetches messages by UID byte-exact, with
SECTION= and PARTIAL=, searches (INBOX?SUBJECT%20word), uploads a message
(APPEND), runs custom commands (-X), over plain IMAP, over STARTTLS
(--ssl-reqd) and over IMAPS trusting the certificate with --cacert (or
not checking it, -k); a self-signed certificate without --cacert and a
wrong password are refused."""
import os
import re
import shutil
import subprocess

from imaptest import CORPUS, NCORPUS, SANITIZED, Server, TMP, run_tests

if shutil.which("curl") is None:
    raise RuntimeError("curl is not installed: 'make test' installs it")

srv = Server()
CERT = os.path.join(TMP, "mailvault.pem")
with open(CERT, "w") as f:
    f.write(srv.mv("credentials", "--cert").stdout)
FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))


def url(path="/", tls=False, host="127.0.0.1", password=None):
    return "%s://%s:%s@%s:%d%s" % ("imaps" if tls else "imap", srv.user,
                                    password or srv.password, host,
                                    srv.sport if tls else srv.port, path)


def curl(*args, check=True):
    p = subprocess.run(["curl", "-sS", "--max-time", "30", *args],
                       capture_output=True, timeout=60)
    if check:
        assert p.returncode == 0, "curl %s: exit %d: %s" % (
            " ".join(a.replace(srv.password, "PW") for a in args), p.returncode,
            p.stderr.decode(errors="replace"))
    return p


def wire(i):
    """Corpus message i (1-based) with NUL as 0x80, as FETCH sends it
    (import also makes LF-only line ends CRLF: callers allow for that)."""
    with open(os.path.join(CORPUS, FILES[i - 1]), "rb") as f:
        data = f.read()
    return data.replace(b"\0", b"\x80")


def test_list():
    out = curl(url("/")).stdout
    assert out == b'* LIST (\\HasNoChildren) "/" INBOX\r\n', out
    curl(url("/"), "-X", "CREATE Reports/2024")
    out = curl(url("/")).stdout.decode()
    assert '"/" Reports/2024\r\n' in out and '"/" INBOX\r\n' in out, out
    out = curl(url("/Reports/")).stdout.decode()
    assert out.strip().endswith('"/" Reports/2024'), out


def test_fetch_by_uid_byte_exact():
    # Over plain IMAP with a PEEK-less fetch (curl sends UID FETCH n BODY[]).
    same = 0
    step = 5 if SANITIZED else 1
    for i in range(1, NCORPUS + 1, step):
        got = curl(url("/INBOX;UID=%d" % i)).stdout
        want = wire(i)
        if b"\n" in want.replace(b"\r\n", b""):
            # a lone LF (or CR) left as stored: compare the line content
            assert got.replace(b"\r\n", b"\n") == want.replace(b"\r\n", b"\n"), FILES[i - 1]
        else:
            assert got == want, (FILES[i - 1], len(got), len(want))
            same += 1
    assert same > 0


def test_sections_and_partials_over_imaps():
    out = curl("--cacert", CERT,
               url("/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT%20FROM)", tls=True)).stdout
    want = [l for l in wire(1).split(b"\r\n\r\n")[0].split(b"\r\n")
            if l.lower().startswith((b"subject:", b"from:"))]
    assert out == b"\r\n".join(want) + b"\r\n\r\n", out
    out = curl("--cacert", CERT, url("/INBOX;UID=2;PARTIAL=10.30", tls=True)).stdout
    assert out == wire(2)[10:40], out
    out = curl("--cacert", CERT, url("/INBOX;UID=1;SECTION=TEXT", tls=True)).stdout
    assert out == wire(1).split(b"\r\n\r\n", 1)[1], out
    # 05-alternative: part 1 is the text/plain alternative
    out = curl("-k", url("/INBOX;UID=5;SECTION=1", tls=True)).stdout
    assert out and out in wire(5), out


def subject_words():
    """Subject words (ASCII, 7+ letters) that occur in one message only."""
    seen = {}
    for i, name in enumerate(FILES, 1):
        head = wire(i).split(b"\r\n\r\n", 1)[0]
        m = re.search(rb"(?mi)^Subject:([^\r\n]*)", head)
        if not m:
            continue
        for w in set(re.findall(rb"\b[A-Za-z]{7,}\b", m.group(1))):
            seen.setdefault(w.lower(), set()).add(i)
    whole = b"".join(wire(i).lower() for i in range(1, NCORPUS + 1))
    return sorted((w.decode(), s.pop()) for w, s in seen.items()
                  if len(s) == 1 and whole.count(w) == 1)


def test_search():
    words = subject_words()
    assert len(words) >= 5, words
    for w, i in words[:10]:
        out = curl(url("/INBOX?SUBJECT%%20%s" % w)).stdout
        assert out == b"* SEARCH %d\r\n" % i, (w, FILES[i - 1], out)
    out = curl(url("/INBOX?SUBJECT%20nosuchwordanywhere")).stdout
    assert out == b"* SEARCH\r\n", out
    out = curl("--cacert", CERT, url("/INBOX?ALL", tls=True)).stdout
    assert out == ("* SEARCH %s\r\n" % " ".join(
        str(i) for i in range(1, NCORPUS + 1))).encode(), out


def test_starttls_required():
    p = curl("--ssl-reqd", "--cacert", CERT, "-v", url("/INBOX;UID=3", host="localhost"))
    assert p.stdout == wire(3)
    assert b"STARTTLS" in p.stderr, p.stderr[-2000:]


def test_untrusted_and_wrong_password_refused():
    p = curl(url("/", tls=True), check=False)
    assert p.returncode == 60, (p.returncode, p.stderr)    # peer certificate
    p = curl(url("/", password="wrong-password"), check=False)
    assert p.returncode == 67, (p.returncode, p.stderr)    # login denied


def test_upload_and_custom_commands():
    msg = os.path.join(TMP, "upload.eml")
    with open(msg, "wb") as f:
        f.write(b"From: Curl <curl@example.org>\r\nTo: demo@example.org\r\n"
                b"Subject: uploaded by curl wombatique\r\n\r\nBody.\r\n")
    curl("-T", msg, "--cacert", CERT, url("/INBOX", tls=True))
    out = curl(url("/INBOX?SUBJECT%20wombatique")).stdout
    assert out == b"* SEARCH %d\r\n" % (NCORPUS + 1), out
    got = curl(url("/INBOX;UID=%d" % (NCORPUS + 1))).stdout
    assert got == open(msg, "rb").read(), got
    out = curl(url("/"), "-X", "STATUS INBOX (MESSAGES)").stdout
    assert out == b"* STATUS INBOX (MESSAGES %d)\r\n" % (NCORPUS + 1), out
    out = curl(url("/INBOX"), "-X", "UID FETCH 1 (FLAGS)").stdout
    assert re.match(rb"\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Seen", out), out
    out = curl(url("/"), "-X", "EXAMINE nosuch", check=False)
    assert out.returncode != 0, out


run_tests(globals(), [srv])
