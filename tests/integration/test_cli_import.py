"""Integration: where `mailvault import` puts messages, and that it says so.

An mbox file without --mailbox goes to the mailbox named after the file
(Archive.mbox to Archive; inbox, mbox and INBOX.mbox, in any case, to
INBOX), --mailbox still wins, a Maildir++ tree goes folder by folder; the
summary (words and --json) names every mailbox with its counts. A single
message file is taken as one without --format eml (*.eml, or a header
line first); a file that is neither is refused before anything changes.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import CORPUS, TESTDIR, Store                  # noqa: E402
from runner import expect, run_tests                       # noqa: E402

st = Store("imp")
WORK = os.path.join(TESTDIR, "files")
os.makedirs(WORK, exist_ok=True)
MSGS = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))[:6]


def corpus(i):
    with open(os.path.join(CORPUS, MSGS[i]), "rb") as f:
        return f.read().replace(b"\r\n", b"\n")


def mbox(name, idx):
    """An mboxrd file of corpus messages idx under WORK; its path."""
    path = os.path.join(WORK, name)
    with open(path, "wb") as out:
        for i in idx:
            body = corpus(i).replace(b"\nFrom ", b"\n>From ")
            out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2015\n" +
                      body + (b"" if body.endswith(b"\n") else b"\n") +
                      b"\n")
    return path


def counts(account):
    """{mailbox: messages} of an account."""
    return {m["name"]: m["messages"] for m in
            json.loads(st.mv("--json", "ls", account).stdout)}


def test_mbox_goes_to_the_mailbox_named_after_the_file():
    p = st.mv("import", "a", mbox("Archive.mbox", [0, 1]))
    expect("a/Archive: 2 imported, 0 skipped" in p.stdout,
           "the summary does not name the destination: %r" % p.stdout)
    expect(counts("a") == {"INBOX": 0, "Archive": 2},
           "Archive.mbox went elsewhere: %r" % counts("a"))
    p = st.mv("import", "a", mbox("Sent Messages", [2]))
    expect("a/Sent Messages: 1 imported" in p.stdout, p.stdout)


def test_inbox_names_go_to_inbox():
    for i, name in enumerate(("inbox", "mbox", "INBOX.mbox", "Inbox.MBOX")):
        acct = "in%d" % i
        p = st.mv("import", acct, mbox(name, [3]))
        expect("%s/INBOX: 1 imported" % acct in p.stdout,
               "%s did not go to INBOX: %r" % (name, p.stdout))
        expect(counts(acct) == {"INBOX": 1}, "%s: %r" % (name, counts(acct)))


def test_mailbox_option_wins_and_json_names_it():
    p = st.mv("--json", "import", "b", mbox("Archive.mbox", [0, 1]),
              "--mailbox", "Old/2015")
    j = json.loads(p.stdout)
    expect(j["ok"] and j["imported"] == 2 and j["mailboxes"] == [
        {"mailbox": "Old/2015", "imported": 2, "skipped": 0}],
        "the JSON summary: %r" % j)
    p = st.mv("--json", "import", "b", mbox("Archive.mbox", [0, 1]),
              "--mailbox", "Old/2015")
    j = json.loads(p.stdout)
    expect(j["mailboxes"][0]["skipped"] == 2, "a second import was not "
           "skipped: %r" % j)


def test_maildir_summary_names_every_folder():
    md = os.path.join(WORK, "md")
    for folder, idx in (("", [0]), (".Sent", [1, 2]), (".Lists.Rust", [3])):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, folder, sub), exist_ok=True)
        for i in idx:
            with open(os.path.join(md, folder, "cur",
                                   "%d.x:2,S" % i), "wb") as f:
                f.write(corpus(i))
    p = st.mv("import", "c", md)
    for line in ("c/INBOX: 1 imported", "c/Sent: 2 imported",
                 "c/Lists/Rust: 1 imported"):
        expect(line in p.stdout, "%r missing from %r" % (line, p.stdout))


def test_single_message_file_without_format():
    path = os.path.join(WORK, "note.eml")
    with open(path, "wb") as f:
        f.write(corpus(4))
    p = st.mv("import", "d", path)
    expect("d/INBOX: 1 imported" in p.stdout, p.stdout)
    # no .eml, but a header line first
    path = os.path.join(WORK, "saved-message")
    with open(path, "wb") as f:
        f.write(corpus(5))
    p = st.mv("import", "d", path)
    expect("d/INBOX: 1 imported" in p.stdout, p.stdout)
    expect(counts("d") == {"INBOX": 2}, "%r" % counts("d"))


def test_a_file_that_is_neither_is_refused_before_any_change():
    path = os.path.join(WORK, "notes.txt")
    with open(path, "w") as f:
        f.write("just some notes\n")
    p = st.fails("a text file", "import", "e", path)
    expect("--format" in p.stderr, "no hint at --format: %r" % p.stderr)
    accounts = json.loads(st.mv("--json", "ls").stdout)
    expect("e" not in accounts, "the account was made all the same")


run_tests(globals(), servers=[])
