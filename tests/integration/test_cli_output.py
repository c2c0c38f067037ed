"""Integration: what `ls` and `show` print for a person.

`ls ACCOUNT/MAILBOX` on an 80-column terminal: a header line, a legend of
the flag letters, every line within the terminal's width and valid UTF-8
(a From of Cyrillic or Chinese is cut by display width, never inside a
character, wide characters counted twice), the subject column starting
at the same column on every line; on a pipe nothing is cut. `show`
renders a message (decoded headers, the text part with its transfer
encoding and charset undone, HTML reduced to text when there is no plain
part, a list of attachments with names, types and sizes) and `show --raw`
gives the stored bytes exactly; escape sequences in a message never
reach the terminal. Every command's errors come out as JSON with --json,
with the same exit status.
"""
import base64
import json
import os
import re
import sys
import unicodedata

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import TESTDIR, Store                          # noqa: E402
from runner import expect, run_tests                       # noqa: E402
from ptyrun import run_pty                                # noqa: E402

st = Store("out")
WORK = os.path.join(TESTDIR, "msgs")
os.makedirs(WORK, exist_ok=True)


def b64w(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


MSGS = {
    "1-cyrillic.eml": (
        "From: %s <lev@example.ru>\r\nTo: you@example.org\r\n"
        "Subject: %s\r\nDate: Mon, 1 May 2023 10:00:00 +0000\r\n\r\n"
        "body\r\n" % (b64w("Лев Николаевич Волконский-Толстой"),
                      b64w("Письмо о поместье Ясная Поляна и о саде, "
                           "длинная тема письма"))),
    "2-chinese.eml": (
        "From: %s <wang@example.cn>\r\nTo: you@example.org\r\n"
        "Subject: %s\r\n\r\nbody\r\n" % (b64w("王小明王小明王小明王小明王小明"),
                                         b64w("龙井茶订单 and more words to "
                                              "fill the line past eighty"))),
    "3-qp-latin1.eml": (
        "From: =?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <renee@example.fr>\r\n"
        "To: a@example.org, b@example.org\r\nCc: c@example.org\r\n"
        "Subject: =?ISO-8859-1?Q?Caf=E9?=\r\n"
        "Date: Tue, 2 May 2023 11:00:00 +0200\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Cr=E8me br=FBl=E9e, a soft=\r\n-broken line.\r\n"),
    "4-html-attach.eml": (
        "From: shop@example.com\r\nSubject: Your order\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
        "--b1\r\nContent-Type: text/html; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
        "--b1\r\nContent-Type: application/pdf; name=\"bill.pdf\"\r\n"
        "Content-Disposition: attachment; filename=\"bill.pdf\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n" % (
            base64.b64encode(
                "<html><head><style>p{}</style></head><body>"
                "<p>Thank you &amp; goodbye.</p><ul><li>Tea</li>"
                "<li>Café</li></ul><a href=\"https://shop.example/o/1\">"
                "Track it</a></body></html>".encode()).decode(),
            base64.b64encode(b"%PDF" + b"x" * 2996).decode())),
    "5-escapes.eml": (
        "From: evil@example.com\r\nSubject: =?UTF-8?B?%s?=\r\n\r\n"
        "before\x1b[2J\x1b]0;pwned\x07after \xc2\x9b31m\r\n" % (
            base64.b64encode(b"title\x1b[31mred").decode())),
}


def setup():
    for name, text in MSGS.items():
        with open(os.path.join(WORK, name), "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape")
                    if isinstance(text, str) else text)
    st.mv("import", "o", WORK, "--format", "eml")


setup()
UIDS = {name: i + 1 for i, name in enumerate(sorted(MSGS))}


def width(s):
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)


def test_ls_lines_fit_the_terminal_and_line_up():
    env = dict(st.env, LC_ALL="C")
    rc, out, p = run_pty(["ls", "o/INBOX"], env, cols=80)
    expect(rc == 0, "ls failed: %r" % out)
    raw = p.out
    raw.decode("utf-8")     # strict: no character cut in half
    lines = [l for l in out.replace("\r", "").split("\n") if l]
    expect(lines[0].split()[:3] == ["UID", "FLAGS", "DATE"] and
           "FROM" in lines[0] and "SUBJECT" in lines[0],
           "no header line: %r" % lines[0])
    expect(lines[-1].startswith("Flags: S seen, A answered, F flagged"),
           "no legend: %r" % lines[-1])
    rows = lines[1:-1]
    expect(len(rows) == len(MSGS), "%d message lines" % len(rows))
    for row in rows:
        expect(width(row) <= 80, "a line wider than the terminal "
               "(%d): %r" % (width(row), row))
    # The subject column starts where the header says, on every line.
    col = width(lines[0][:lines[0].index("SUBJECT")])
    for row, name in zip(rows, sorted(MSGS)):
        subj = {"1": "Письмо", "2": "龙井茶订单", "3": "Café",
                "4": "Your", "5": "title"}[name[0]]
        expect(subj in row, "%s: the subject is missing: %r" % (name, row))
        expect(width(row[:row.index(subj)]) == col,
               "%s: the subject starts at column %d, not %d: %r" % (
                   name, width(row[:row.index(subj)]), col, row))
    expect("\x1b[2J" not in out and "\x1b[31m" not in out,
           "an escape sequence from a message reached the terminal")


def test_ls_on_a_pipe_cuts_only_the_from_column():
    out = st.mv("ls", "o/INBOX").stdout
    expect("fill the line past eighty" in out, "a pipe got a cut subject")
    expect("Волконский-Толстой" not in out and "Лев Николаевич" in out,
           "the From column is not cut on a pipe: %r" % out)


def test_show_decodes_headers_text_and_charset():
    out = st.mv("show", "o/INBOX", str(UIDS["3-qp-latin1.eml"])).stdout
    for want in ("From     Renée Dupré <renee@example.fr>",
                 "To       a@example.org, b@example.org",
                 "Cc       c@example.org", "Subject  Café",
                 "Date     Tue, 2 May 2023 11:00:00 +0200",
                 "Crème brûlée, a soft-broken line."):
        expect(want in out, "%r missing from show: %r" % (want, out))
    expect("=E8" not in out and "Content-Transfer" not in out,
           "the raw form leaked into show: %r" % out)


def test_show_html_only_and_attachments():
    out = st.mv("show", "o/INBOX", str(UIDS["4-html-attach.eml"])).stdout
    for want in ("Thank you & goodbye.", "* Tea", "* Café",
                 "Track it <https://shop.example/o/1>", "Attachments:",
                 "bill.pdf  application/pdf  3.0 KB"):
        expect(want in out, "%r missing from show: %r" % (want, out))
    expect("<p>" not in out and "p{}" not in out, "HTML left: %r" % out)
    j = json.loads(st.mv("--json", "show", "o/INBOX",
                         str(UIDS["4-html-attach.eml"])).stdout)
    expect(j["html"] and j["attachments"] == [
        {"name": "bill.pdf", "type": "application/pdf", "size": 3000}],
        "show --json: %r" % j)


def test_show_raw_is_the_stored_bytes():
    for name, text in MSGS.items():
        p = st.mv("show", "o/INBOX", str(UIDS[name]), "--raw", text=False)
        want = text.encode("utf-8", "surrogateescape")
        expect(p.stdout == want, "%s: --raw differs from the message "
               "(%d bytes, want %d)" % (name, len(p.stdout), len(want)))


def test_show_keeps_escape_sequences_off_the_terminal():
    p = st.mv("show", "o/INBOX", str(UIDS["5-escapes.eml"]), text=False)
    expect(b"\x1b" not in p.stdout and b"\x07" not in p.stdout and
           b"\xc2\x9b" not in p.stdout,
           "control characters reached the output: %r" % p.stdout)
    expect(b"before" in p.stdout and b"after" in p.stdout and
           b"title" in p.stdout, "the text around them is gone: %r"
           % p.stdout)


def test_errors_come_out_as_json_with_the_same_status():
    cases = [
        (["ls", "nosuch"], 1),
        (["show", "o/INBOX", "99999"], 1),
        (["show", "o/INBOX", "x"], 2),
        (["bogus"], 2),
        (["rm", "o/INBOX", "--search", "FROM"], 1),
        (["mailbox", "delete", "o/INBOX"], 1),
        (["config", "get", "no-such-key"], 1),
        (["import", "o", os.path.join(WORK, "missing.mbox")], 1),
    ]
    for args, status in cases:
        p = st.mv(*args, check=False)
        expect(p.returncode == status and "mailvault: " in p.stderr,
               "%s without --json: %d %r" % (args, p.returncode, p.stderr))
        p = st.mv("--json", *args, check=False)
        expect(p.returncode == status, "%s: exit %d with --json, %d "
               "without" % (args, p.returncode, status))
        lines = p.stdout.strip().splitlines()
        expect(lines, "%s: nothing on stdout with --json" % args)
        err = json.loads(lines[-1])
        expect(isinstance(err.get("error"), str) and len(err["error"]) > 10,
               "%s: not a JSON error: %r" % (args, p.stdout))
        expect("mailvault: " not in p.stderr, "%s: the error went to stderr "
               "in words too: %r" % (args, p.stderr))
    # a wrong passphrase is an error of its own kind
    bad = os.path.join(TESTDIR, "badpass")
    with open(bad, "w") as f:
        f.write("wrong\n")
    p = st.mv("--json", "--passphrase-file", bad, "ls", check=False)
    expect(p.returncode != 0 and "error" in json.loads(p.stdout),
           "a wrong passphrase with --json: %r" % p.stdout)


run_tests(globals())
