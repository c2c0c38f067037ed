"""A real client: mbsync (Debian's isync) syncs a mailvault account into a
Maildir over IMAPS, trusting mailvault's certificate through CertificateFile
(the PEM of `credentials --cert`). The Maildir must then hold every message
byte-exact, as mbsync writes Maildir files: LF line ends (every CR
dropped) and its own X-TUID header line; mbsync refuses messages whose header never ends (it must
insert that line), and exactly those may be missing. Then flags, deletions
and a new message made in the Maildir sync back and mailvault must show
them; and a change made in mailvault must come down on the next sync."""
import imaplib
import os
import re
import shutil
import subprocess

from imaptest import CORPUS, NCORPUS, Server, TMP, run_tests

if shutil.which("mbsync") is None:
    raise RuntimeError("mbsync (isync) is not installed: 'make test' "
                       "installs it")

srv = Server()
WORK = os.path.join(TMP, "mbsync")
MAILDIR = os.path.join(WORK, "maildir")
os.makedirs(MAILDIR)
CERT = os.path.join(WORK, "mailvault.pem")
with open(CERT, "w") as f:
    f.write(srv.mv("credentials", "--cert").stdout)
RC = os.path.join(WORK, "mbsyncrc")
with open(RC, "w") as f:
    f.write("""\
IMAPAccount mailvault
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType IMAPS
CertificateFile {cert}

IMAPStore mailvault-far
Account mailvault

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel mailvault
Far :mailvault-far:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
SyncState *
Sync All
""".format(port=srv.sport, user=srv.user, password=srv.password, cert=CERT,
           maildir=MAILDIR))
os.chmod(RC, 0o600)


def mbsync(rc=RC):
    p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, "mbsync failed (%d): %s %s" % (p.returncode, p.stdout,
                                                           p.stderr)
    return p.stdout + p.stderr


def imap():
    c = imaplib.IMAP4_SSL("127.0.0.1", srv.sport, ssl_context=srv.ssl_context(),
                          timeout=30)
    c.login(srv.user, srv.password)
    return c


def server_messages(c, box):
    """{uid: (flags, bytes)} of a mailbox, read-only."""
    typ, _ = c.select(box, readonly=True)
    assert typ == "OK", box
    typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
    out = {}
    for d in data:
        if isinstance(d, tuple):
            uid = int(re.search(rb"UID (\d+)", d[0]).group(1))
            flags = re.search(rb"FLAGS \(([^)]*)\)", d[0]).group(1).decode().split()
            out[uid] = (set(f for f in flags if f != "\\Recent"), d[1])
    return out


def folder(box):
    return os.path.join(MAILDIR, box)


def near_to_far(box):
    """mbsync's sync state: {Maildir UID: server UID}."""
    text = open(os.path.join(folder(box), ".mbsyncstate")).read()
    out = {}
    for line in text.split("\n\n", 1)[1].splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            if int(parts[1]) > 0 and int(parts[0]) > 0:
                out[int(parts[1])] = int(parts[0])
    return out


def maildir_files(box):
    """{server UID: path} of a Maildir folder."""
    n2f = near_to_far(box)
    out = {}
    for sub in ("new", "cur"):
        for name in os.listdir(os.path.join(folder(box), sub)):
            m = re.search(r",U=(\d+)", name)
            assert m, name
            out[n2f[int(m.group(1))]] = os.path.join(folder(box), sub, name)
    return out


def as_mbsync_writes(wire):
    """A message as mbsync stores it in a Maildir: CRLF made LF, and a lone
    CR (40-mixed-crlf-lf) dropped too: isync removes every CR."""
    return wire.replace(b"\r", b"")


def without_tuid(data):
    return re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", data, count=1)


def has_header_end(wire):
    return wire.startswith(b"\r\n") or b"\r\n\r\n" in wire


def setup_module():
    c = imap()
    for box in ("Work", "Work/Reports"):
        assert c.create(box)[0] == "OK", box
    c.select("INBOX")
    c.copy("1:5", "Work")
    c.copy("6", "Work/Reports")
    c.logout()


setup_module()


def test_untrusted_certificate_is_refused():
    """Without CertificateFile mbsync must refuse the self-signed
    certificate: so the other tests really trust it through the file."""
    rc = RC + ".untrusted"
    with open(RC) as f:
        text = f.read().replace("CertificateFile %s\n" % CERT, "")
    with open(rc, "w") as f:
        f.write(text.replace(MAILDIR, MAILDIR + "-untrusted"))
    os.makedirs(MAILDIR + "-untrusted")
    p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode != 0, p.stdout + p.stderr
    assert "certificate" in (p.stdout + p.stderr).lower(), p.stdout + p.stderr


def test_first_sync_is_byte_exact():
    out = mbsync()
    c = imap()
    for box in ("INBOX", "Work", "Work/Reports"):
        msgs = server_messages(c, box)
        files = maildir_files(box)
        missing = set(msgs) - set(files)
        for uid in missing:
            # mbsync must add a header line; it skips what has no header end.
            assert not has_header_end(msgs[uid][1]), (box, uid, "not synced")
        assert set(files) <= set(msgs), (box, set(files) - set(msgs))
        for uid, path in files.items():
            got = without_tuid(open(path, "rb").read())
            want = as_mbsync_writes(msgs[uid][1])
            assert got == want, (box, uid, path, len(got), len(want))
        if box == "INBOX":
            # ... and is the corpus file itself (NUL goes out as 0x80).
            names = sorted(n for n in os.listdir(CORPUS) if n.endswith(".eml"))
            for uid, path in files.items():
                with open(os.path.join(CORPUS, names[uid - 1]), "rb") as f:
                    orig = f.read().replace(b"\0", b"\x80")
                got = without_tuid(open(path, "rb").read())
                assert got == as_mbsync_writes(orig), names[uid - 1]
            assert len(msgs) == NCORPUS, len(msgs)
            assert len(missing) == len([1 for m in msgs.values()
                                        if not has_header_end(m[1])]), missing
            assert "incomplete header" in out or not missing, out
    c.logout()


def set_maildir_flags(path, flags):
    base = path.split(":2,", 1)[0]
    new = base + ":2," + "".join(sorted(flags))
    if "/new/" in new:
        new = new.replace("/new/", "/cur/")
    os.rename(path, new)


def test_flags_and_deletions_sync_back():
    files = maildir_files("INBOX")
    set_maildir_flags(files[1], "F")
    set_maildir_flags(files[2], "S")
    set_maildir_flags(files[3], "RS")
    set_maildir_flags(files[7], "T")     # trashed: expunged on the server
    os.unlink(files[8])                  # gone: expunged on the server
    wfiles = maildir_files("Work")
    os.unlink(wfiles[min(wfiles)])
    mbsync()
    c = imap()
    msgs = server_messages(c, "INBOX")
    assert msgs[1][0] == {"\\Flagged"}, msgs[1][0]
    assert msgs[2][0] == {"\\Seen"}, msgs[2][0]
    assert msgs[3][0] == {"\\Answered", "\\Seen"}, msgs[3][0]
    assert 7 not in msgs and 8 not in msgs, sorted(msgs)
    assert len(msgs) == NCORPUS - 2, len(msgs)
    work = server_messages(c, "Work")
    assert len(work) == 4 and min(wfiles) not in work, sorted(work)
    c.logout()


def test_new_message_in_maildir_is_uploaded():
    msg = (b"From: Maildir Writer <writer@example.org>\nTo: demo@example.org\n"
           b"Subject: written into the maildir quokkafire\n"
           b"Message-ID: <maildir-1@example.org>\n\nA line.\nAnother line.\n")
    path = os.path.join(folder("INBOX"), "new", "1700000000.mbsynctest.host")
    with open(path, "wb") as f:
        f.write(msg)
    mbsync()
    c = imap()
    c.select("INBOX", readonly=True)
    typ, data = c.uid("SEARCH", None, "SUBJECT", "quokkafire")
    uids = data[0].split()
    assert len(uids) == 1, data
    typ, data = c.uid("FETCH", uids[0], "(BODY.PEEK[] FLAGS)")
    body = data[0][1]
    assert without_tuid(body.replace(b"\r\n", b"\n")) == msg, body
    c.logout()


def test_server_changes_come_down():
    c = imap()
    c.select("INBOX")
    c.uid("STORE", "10", "+FLAGS", "(\\Flagged \\Seen)")
    c.uid("STORE", "11", "+FLAGS", "(\\Deleted)")
    c.expunge()
    with open(os.path.join(CORPUS, "01-plain-ascii.eml"), "rb") as f:
        data = f.read()
    typ, resp = c.append("INBOX", "(\\Answered)", None, data)
    new_uid = int(re.search(rb"APPENDUID \d+ (\d+)", resp[0]).group(1))
    c.logout()
    mbsync()
    files = maildir_files("INBOX")
    assert 11 not in files, "expunged message still in the Maildir"
    assert files[10].endswith(":2,FS"), files[10]
    assert new_uid in files and files[new_uid].endswith(":2,R"), files.get(new_uid)
    assert without_tuid(open(files[new_uid], "rb").read()) == as_mbsync_writes(data)


def test_second_sync_changes_nothing():
    out = mbsync()
    before = {b: sorted(os.path.basename(p) for p in maildir_files(b).values())
              for b in ("INBOX", "Work")}
    mbsync()
    after = {b: sorted(os.path.basename(p) for p in maildir_files(b).values())
             for b in ("INBOX", "Work")}
    assert before == after, out


run_tests(globals(), [srv])
