"""Differential test against Dovecot's IMAP server (dovecot-imapd): the
corpus is imported into mailvault (`import --format eml`) and APPENDed to a
private Dovecot in the same order, with mailvault's bytes, flags and
INTERNALDATE; then the same IMAP script goes to both, command by command,
and the answers are compared after tests/lib/imapdiff.py's normalising
(UIDVALIDITY, MODSEQ values, capabilities, response texts, quoted versus
literal strings and the order of untagged responses may differ; the
status word and response code may not). ENVELOPE and BODYSTRUCTURE must
match for every message. Dovecot keeps its mail in sdbox with "/" as the
separator (see imapdiff.sdbox_dovecot). Every difference is printed with
the command and both servers' lines; a test fails on any difference that
is not marked Known() in its script, where each legitimate difference
says why it is one."""
import os
import re
import sys
import time

from imaptest import SANITIZED, TOP, TMP, Server, run_tests

sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from dovecot import free_port  # noqa: E402
from imapdiff import (Client, diff_lines, normalise, sdbox_dovecot, short,  # noqa: E402
                      status)
from runner import stop_at_end  # noqa: E402

if not os.path.exists("/usr/lib/dovecot/imap"):
    raise RuntimeError("Dovecot's IMAP server (dovecot-imapd) is not "
                       "installed: 'make test' installs it")

# RFC 5530 codes mailvault gives where Dovecot gives none: the issue asks
# for them, so a NO with one of these against Dovecot's bare NO is no
# difference (it is still printed as a note).
RFC5530 = (b"NONEXISTENT", b"ALREADYEXISTS", b"CANNOT", b"TRYCREATE",
           b"INUSE", b"EXPUNGEISSUED", b"LIMIT", b"OVERQUOTA", b"CLIENTBUG")

srv = Server()
dv = stop_at_end(sdbox_dovecot(os.path.join(TMP, "dovecot"),
                              imap_port=free_port()))
dv.start()
CORPUS_FILES = sorted(f for f in os.listdir(os.path.join(TOP, "tests", "corpus"))
                      if f.endswith(".eml"))
NMSG = len(CORPUS_FILES)


def mv_client():
    c = Client(srv.port)
    c.login(srv.user, srv.password)
    return c


def dv_client():
    c = Client(dv.imap_port)
    c.login("demo", dv.password)
    return c


def fill_dovecot():
    """APPEND to Dovecot what mailvault holds: the same bytes (NUL bytes
    restored from the corpus file: FETCH sends them as 0x80), flags and
    INTERNALDATE, in UID order."""
    m = mv_client()
    m.ok("EXAMINE INBOX")
    lines = m.ok("FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])")
    assert len(lines) == NMSG, (len(lines), NMSG)
    d = dv_client()
    for line, name in zip(lines, CORPUS_FILES):
        flags = re.search(rb"FLAGS \(([^)]*)\)", line).group(1)
        flags = b" ".join(f for f in flags.split() if f != b"\\Recent")
        date = re.search(rb'INTERNALDATE "([^"]+)"', line).group(1)
        body = line[line.index(b"}\r\n") + 3:-1]
        orig = open(os.path.join(TOP, "tests", "corpus", name), "rb").read()
        if orig.replace(b"\0", b"\x80") == body:
            body = orig
        _, t = d.append("INBOX", body, flags.decode(), date.decode())
        assert status(t) == "OK", (name, t)
    m.close()
    d.close()


fill_dovecot()

# Every difference found, for the summary at the end.
DIFFS = []
NOTES = []
TIME = [0.0, 0.0]


def drop_lines(pattern):
    """A filter: leave out the untagged responses matching `pattern`."""
    rx = re.compile(pattern)
    return lambda lines: [l for l in lines if not rx.search(l)]


def drop_attr(attr):
    """A filter: leave out one mailbox attribute from LIST / LSUB lines."""
    rx = re.compile(rb" ?" + re.escape(attr) + rb"(?=[ )])", re.I)
    return lambda lines: [rx.sub(b"", l).replace(b"( ", b"(")
                          if l.startswith((b"* LIST ", b"* LSUB ")) else l
                          for l in lines]


def flag_filter(flag):
    """A filter: leave out one flag from FETCH responses."""
    rx = re.compile(rb" ?" + re.escape(flag) + rb"(?=[ )])", re.I)
    return lambda lines: [rx.sub(b"", l).replace(b"FLAGS ( ", b"FLAGS (")
                          if b" FETCH " in l[:20] else l for l in lines]


class Known:
    """A legitimate difference on one command: why it is fine, and either
    filters that remove the difference from mailvault's (fm) and Dovecot's
    (fd) untagged lines, or, with no filter, the whole answer may differ."""

    def __init__(self, command, why, fm=None, fd=None):
        self.command, self.why, self.fm, self.fd = command, why, fm, fd


class Pair:
    """A mailvault connection and a Dovecot connection driven together."""

    def __init__(self):
        self.m = mv_client()
        self.d = dv_client()

    def run(self, command, literal=None):
        """Send the command to both; print every difference; return True
        if the answers differ in a way that is not known to be fine."""
        known = None
        if isinstance(command, Known):
            known, command = command, command.command
        t0 = time.monotonic()
        mu, mt = self.m.cmd(command, literal)
        t1 = time.monotonic()
        du, dt = self.d.cmd(command, literal)
        TIME[0] += t1 - t0
        TIME[1] += time.monotonic() - t1
        if known and (known.fm or known.fd):
            mu = (known.fm or list)(mu)
            du = (known.fd or list)(du)
        nm, nd = normalise(mu, mt), normalise(du, dt)
        if nm != nd and nm[0][0] == nd[0][0] and nd[0][1] is None and \
                nm[0][1] and nm[0][1][0] in RFC5530 and nm[1:] == nd[1:]:
            NOTES.append((command, mt, dt))
            print("NOTE %s: mailvault adds a response code\n   mailvault: %s\n"
                  "   dovecot:   %s" % (command, short(mt), short(dt)))
            return False
        if nm == nd:
            return False
        diffs = diff_lines(mu, mt, du, dt) or [(b"(order)", b"(order)")]
        whole = known is not None and not (known.fm or known.fd)
        DIFFS.append((command, diffs, known.why if whole else None))
        print("DIFF %s%s" % (command, " (known: %s)" % known.why if whole else ""))
        for a, b in diffs[:6]:
            if a is not None:
                print("   mailvault: %s" % short(a))
            if b is not None:
                print("   dovecot:   %s" % short(b))
        if len(diffs) > 6:
            print("   ... %d more lines differ" % (len(diffs) - 6))
        return not whole

    def script(self, commands):
        """Run commands (strings or Known); return those that differ."""
        return [c if isinstance(c, str) else c.command
                for c in commands if self.run(c)]

    def close(self):
        self.m.close()
        self.d.close()


def check(bad):
    assert not bad, "%d commands answered differently: %s" % (
        len(bad), "; ".join(bad[:8]))


def test_examine_and_select():
    p = Pair()
    check(p.script(["EXAMINE INBOX", "SELECT INBOX", "EXAMINE INBOX",
                    "SELECT INBOX", "CLOSE", "SELECT nosuch", "EXAMINE nosuch",
                    "SELECT INBOX", "UNSELECT", "EXAMINE INBOX"]))
    p.close()


def test_envelope_every_message():
    p = Pair()
    p.run("EXAMINE INBOX")
    check(p.script(["FETCH %d ENVELOPE" % i for i in range(1, NMSG + 1)]))
    p.close()


def test_bodystructure_every_message():
    p = Pair()
    p.run("EXAMINE INBOX")
    check(p.script(["FETCH %d BODYSTRUCTURE" % i for i in range(1, NMSG + 1)] +
                   ["FETCH %d BODY" % i for i in range(1, NMSG + 1)]))
    p.close()


def test_whole_messages_and_metadata():
    p = Pair()
    p.run("EXAMINE INBOX")
    check(p.script(
        ["FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)",
         "FETCH 1:* FAST", "FETCH 1:* ALL", "FETCH 1:* FULL",
         "UID FETCH 1:* (FLAGS)", "UID FETCH 10:20 RFC822.SIZE",
         "UID FETCH 50:* UID", "UID FETCH 1000:* UID", "UID FETCH 3,1,2 UID",
         "FETCH 5,3:4,1 (UID RFC822.SIZE)"] +
        ["FETCH %d (BODY.PEEK[] RFC822.SIZE)" % i for i in range(1, NMSG + 1)]))
    p.close()


SECTIONS = ["HEADER", "TEXT", "1", "2", "3", "1.MIME", "2.MIME", "1.1", "1.2",
            "2.1", "2.2", "1.1.MIME", "2.HEADER", "2.TEXT", "1.HEADER",
            "2.1.1", "2.2.1", "HEADER.FIELDS (From Subject)",
            "HEADER.FIELDS.NOT (Received From Subject)",
            "HEADER.FIELDS (x-nonexistent)", "HEADER.FIELDS (DATE to cc)",
            "1.HEADER.FIELDS (Content-Type)", "2.HEADER.FIELDS (Subject)",
            "2.HEADER.FIELDS.NOT (Subject)"]
PARTIALS = ["[]<0.10>", "[]<100.50>", "[]<0.100000000>", "[]<1000000.5>",
            "[TEXT]<5.20>", "[1]<0.1>", "[HEADER]<10.10>", "[]<0.0>",
            "[2.MIME]<2.5>"]


def test_body_sections():
    p = Pair()
    p.run("EXAMINE INBOX")
    cmds = []
    for i in range(1, NMSG + 1):
        cmds.append("FETCH %d (%s)" % (i, " ".join("BODY.PEEK[%s]" % s
                                                   for s in SECTIONS)))
        cmds.append("FETCH %d (%s)" % (i, " ".join("BODY.PEEK%s" % s
                                                   for s in PARTIALS)))
        cmds.append("FETCH %d (RFC822.HEADER RFC822.SIZE)" % i)
    check(p.script(cmds))
    p.close()


def test_fetch_errors():
    p = Pair()
    p.run("EXAMINE INBOX")
    check(p.script(["FETCH 0 FLAGS", "FETCH %d FLAGS" % (NMSG + 1),
                    "FETCH 1 (FLAGS", "FETCH 1 BOGUS", "FETCH 1 BODY[4.X]",
                    "FETCH 1 BODY[HEADER.FIELDS]", "FETCH 1 BODY[]<1>",
                    "UID FETCH 0 FLAGS", "FETCH * UID", "FETCH *:1 UID",
                    "UID FETCH * UID", "FETCH 1 BODY[0]", "FETCH 1 BODY[1.0]"]))
    p.close()


def test_rfc822_items_set_seen():
    p = Pair()
    p.run("SELECT INBOX")
    check(p.script(["FETCH 1 RFC822", "FETCH 2 RFC822.TEXT",
                    "FETCH 3 RFC822.HEADER", "FETCH 4 BODY[TEXT]",
                    "FETCH 5 BODY[1]<0.10>", "FETCH 1:6 FLAGS",
                    "STORE 1:6 -FLAGS.SILENT (\\Seen)", "FETCH 1:6 FLAGS"]))
    p.close()


SEARCHES = [
    "ALL", "FROM example", "FROM alice", "FROM nobody-at-all", "TO bob",
    "CC example", "SUBJECT report", "SUBJECT Re:", "BODY the", "TEXT the",
    "TEXT Kestrel", "BODY Kestrel", 'HEADER Message-ID ""', "HEADER X-Mailer a",
    "HEADER Content-Type multipart", "SINCE 1-Jan-2000", "SINCE 1-Jan-2030",
    "BEFORE 1-Jan-2030", "ON 1-Jan-2020", "SENTSINCE 1-Jan-2010",
    "SENTBEFORE 1-Jan-2010", "SENTON 1-Jan-2010", "LARGER 3000",
    "SMALLER 1000", "NOT LARGER 3000", "OR SMALLER 500 LARGER 10000",
    "NOT OR FROM example SUBJECT report", "UID 1:10", "UID 5,7,40:*",
    "1:5 UID 3:*", "SEEN", "UNSEEN", "FLAGGED", "ANSWERED", "DELETED",
    "DRAFT", "RECENT", "NEW", "OLD", "NOT ALL", "20:*", "*",
    "CHARSET UTF-8 SUBJECT {5+}\r\ncaf\u00e9", "CHARSET UTF-8 TEXT {4+}\r\n\u00c5le",
    "CHARSET US-ASCII TEXT hello", "(FROM example SUBJECT test)",
    "OR (FROM a) (OR TO b CC c)", "HEADER From example",
    "BCC example", "LARGER 0", "SMALLER 100000000", "SUBJECT \"\"",
    "TEXT \"quoted-printable\"", "BODY \"=3D\"", "SUBJECT fwd"]

# Dovecot adds a keyword it is asked to search for to the mailbox's
# keyword list and announces the new FLAGS; nothing requires that.
KEYWORD_FLAGS = drop_lines(rb"^\* (FLAGS|OK \[PERMANENTFLAGS)")


def corpus_words():
    """Words each unique to one corpus message (tests/corpus/leak-words.txt)."""
    words = []
    path = os.path.join(TOP, "tests", "corpus", "leak-words.txt")
    for w in open(path, encoding="utf-8"):
        w = w.strip()
        if w and w.isascii() and " " not in w and '"' not in w:
            words.append(w)
    return words[:6 if SANITIZED else 20]


def test_search_keys():
    p = Pair()
    p.run("EXAMINE INBOX")
    cmds = ["SEARCH " + s for s in SEARCHES] + ["UID SEARCH " + s for s in SEARCHES[:20]]
    for w in corpus_words():
        cmds += ["SEARCH TEXT %s" % w, "SEARCH BODY %s" % w,
                 "SEARCH SUBJECT %s" % w, "SEARCH FROM %s" % w]
    cmds += ["SEARCH FROB", "SEARCH CHARSET KOI8-X ALL", "SEARCH UID",
             Known("SEARCH SINCE 32-Jan-2000",
                   "an impossible date: mailvault says BAD (RFC 3501 "
                   "date-day is 1*2DIGIT of a real date), Dovecot searches anyway"),
             Known("SEARCH KEYWORD $Forwarded", "Dovecot announces searched "
                   "keywords as new FLAGS", fd=KEYWORD_FLAGS),
             Known("SEARCH UNKEYWORD foo", "Dovecot announces searched "
                   "keywords as new FLAGS", fd=KEYWORD_FLAGS)]
    check(p.script(cmds))
    p.close()


def test_store_flags():
    p = Pair()
    p.run("SELECT INBOX")
    check(p.script([
        "STORE 1 +FLAGS (\\Seen \\Flagged)", "STORE 1 -FLAGS (\\Flagged)",
        "STORE 1:3 FLAGS (\\Answered)", "STORE 2 -FLAGS.SILENT (\\Answered)",
        "STORE 4:6 +FLAGS.SILENT (\\Draft)", "UID STORE 7 +FLAGS \\Seen",
        "UID STORE 8:9 +FLAGS ($Important work)", "FETCH 1:10 FLAGS",
        "STORE 3 FLAGS ()", "STORE 10 +FLAGS (\\Recent)",
        "STORE 11 +FLAGS (\\Bogus)", "STORE 1 BADOP (\\Seen)",
        Known("STORE 1 +FLAGS", "no flag at all: mailvault says BAD (RFC "
              "3501 store-att-flags needs a flag list or a flag), Dovecot "
              "accepts it"),
        "SEARCH KEYWORD work", "SEARCH SEEN", "SEARCH ANSWERED", "SEARCH DRAFT",
        "SEARCH UNKEYWORD work", "SEARCH NOT SEEN FLAGGED",
        "STORE 4:6 -FLAGS.SILENT (\\Draft)", "FETCH 1:12 FLAGS",
        "STORE 12 +FLAGS.SILENT (\\Seen)",
        Known("UID STORE 1:* -FLAGS (\\Answered)", "mailvault answers a "
              "FETCH for every message of the set, Dovecot only for those "
              "whose flags changed (RFC 3501 section 6.4.6 allows both; the "
              "FETCH below compares the result)"),
        "FETCH 1:* FLAGS"]))
    p.close()


def test_copy_move_expunge_status():
    p = Pair()
    check(p.script(["CREATE Copies", "CREATE Moved", "SELECT INBOX",
                    "COPY 1:3 Copies", "UID COPY 10:12 Copies",
                    "COPY 1 nosuch", "UID COPY 1000 Copies",
                    "STATUS Copies (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)",
                    "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)",
                    "STATUS nosuch (MESSAGES)", "STATUS INBOX (BOGUS)",
                    "UID MOVE 20 Moved", "MOVE 1 Moved",
                    "STORE 2,4,6 +FLAGS.SILENT (\\Deleted)", "EXPUNGE",
                    "UID STORE 30 +FLAGS.SILENT (\\Deleted)",
                    "UID EXPUNGE 30", "SEARCH DELETED", "FETCH 1:5 (UID FLAGS)",
                    "UNSELECT", "SELECT Copies",
                    "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)",
                    "STORE 1 +FLAGS.SILENT (\\Deleted)", "CLOSE",
                    "STATUS Copies (MESSAGES UIDNEXT UNSEEN)",
                    "STATUS Moved (MESSAGES UIDNEXT)", "STATUS INBOX (MESSAGES)",
                    "EXAMINE Moved", "FETCH 1:* (UID BODYSTRUCTURE)",
                    Known("STORE 1 +FLAGS (\\Seen)", "STORE in a read-only "
                          "mailbox: mailvault says NO [CANNOT], Dovecot OK "
                          "and ignores it; RFC 3501 allows either"),
                    Known("EXPUNGE", "EXPUNGE in a read-only mailbox: "
                          "mailvault says NO [CANNOT], Dovecot OK and does "
                          "nothing; RFC 3501 allows either"),
                    "UNSELECT"]))
    p.close()


def test_append():
    p = Pair()
    msg = b"From: a@example.org\r\nSubject: appended\r\n\r\nhello\r\n"
    bad = [c for c, lit in [
        ('APPEND Copies (\\Seen) "01-Feb-2021 10:00:00 +0100" {%d}' % len(msg), msg),
        ("APPEND Copies (\\Flagged $Label1) {%d}" % len(msg), msg),
        ("APPEND nosuch {%d}" % len(msg), msg),
    ] if p.run(c, lit)]
    bad += p.script(["EXAMINE Copies",
                     "FETCH 7:* (FLAGS RFC822.SIZE ENVELOPE BODY[])",
                     "FETCH 7 INTERNALDATE", "CREATE Scratch"])
    # Dovecot refuses an empty message; mailvault takes it. Either is fine,
    # so it goes into a mailbox that is then deleted.
    p.run(Known("APPEND Scratch {0}", "an empty message: Dovecot refuses "
                "it, mailvault stores it"), b"")
    bad += p.script(["DELETE Scratch"])
    check(bad)
    p.close()


def test_list_lsub():
    p = Pair()
    lsub = drop_attr(b"\\Subscribed")
    children = drop_attr(b"\\HasNoChildren")
    check(p.script([
        "CREATE Work", "CREATE Work/Projects", "CREATE Work/Projects/2024",
        "CREATE Archive", 'CREATE "Caf&AOk-"', 'LIST "" *', 'LIST "" %',
        'LIST "" Work/%', 'LIST Work/ %', 'LIST "" *2024', 'LIST "" inbox',
        'LIST "" ""', 'LIST "" nosuch', 'LIST "" Caf*', 'LIST "" W*/%',
        "SUBSCRIBE Work", "SUBSCRIBE Work/Projects/2024", "SUBSCRIBE INBOX",
        Known('LSUB "" *', "mailvault marks LSUB lines \\Subscribed "
              "(a flag-extension; RFC 3501 allows it)", fm=lsub),
        Known('LSUB "" %', "as above", fm=lsub),
        Known('LSUB "" Work/*', "as above", fm=lsub),
        "UNSUBSCRIBE Work",
        Known("SUBSCRIBE nosuch", "RFC 3501 lets a server refuse or "
              "accept subscribing to a name that does not exist"),
        Known("UNSUBSCRIBE nosuch", "unsubscribing a name not subscribed: "
              "mailvault NO [NONEXISTENT], Dovecot OK; RFC 3501 allows NO"),
        Known('LSUB "" *', "as above", fm=lsub),
        'LIST "" Work*',
        Known('LIST (SUBSCRIBED) "" *', "mailvault adds \\HasNoChildren "
              "without RETURN (CHILDREN) (RFC 5258 section 4: MAY)",
              fm=children),
        'LIST (SUBSCRIBED) "" * RETURN (CHILDREN)',
        'LIST "" * RETURN (CHILDREN)', 'LIST "" % RETURN (STATUS (MESSAGES))']))
    p.close()


def test_create_rename_delete():
    p = Pair()
    check(p.script([
        "CREATE Work", "CREATE inbox", "CREATE INBOX", "CREATE Fresh/",
        "RENAME Fresh Fresh2", "RENAME Fresh2 Work", "RENAME nosuch other",
        "DELETE nosuch", "DELETE INBOX", "CREATE Empty", "DELETE Empty",
        "SELECT Empty", 'CREATE "bad&-name&"', "CREATE", "DELETE", "RENAME a",
        'RENAME Work "Work/Sub"', "CREATE Parent", "CREATE Parent/Child",
        "DELETE Parent", 'LIST "" Parent*', "SELECT Parent", "CREATE Parent",
        'LIST "" Parent*', "RENAME Parent Parent2", 'LIST "" Parent*',
        "DELETE Parent2/Child", "DELETE Parent2", 'LIST "" Parent*']))
    p.close()


def test_implicit_parents():
    p = Pair()
    check(p.script([
        "CREATE Deep/er/still",
        Known('LIST "" Deep*', "CREATE of a/b/c: mailvault makes the "
              "parents real mailboxes, Dovecot \\Noselect names; RFC 3501 "
              "section 6.3.3 allows either"),
        "DELETE Deep/er/still", "DELETE Deep/er/still",
        'LIST "" Deep/er/still',
        Known("DELETE Deep/er", "the parents left by CREATE Deep/er/still "
              "are mailboxes in mailvault and vanish with their last child in "
              "Dovecot"),
        Known("DELETE Deep", "as above"), 'LIST "" Deep*']))
    p.close()


def test_esearch_condstore_misc():
    p = Pair()
    check(p.script([
        "NAMESPACE", "NOOP", "STATUS {5+}\r\nINBOX (MESSAGES UNSEEN)",
        "STATUS INBOX (HIGHESTMODSEQ MESSAGES)", "EXAMINE INBOX (CONDSTORE)",
        "CHECK", "FETCH 1:4 (FLAGS MODSEQ)", "UID FETCH 1:4 (FLAGS) (CHANGEDSINCE 1)",
        "SEARCH RETURN (MIN MAX COUNT) ALL", "SEARCH RETURN (ALL) FROM example",
        "UID SEARCH RETURN (ALL COUNT) SUBJECT re", "SEARCH RETURN () SEEN",
        "SEARCH RETURN (MIN) NOT ALL", "UID SEARCH RETURN (COUNT) LARGER 100000",
        "UNSELECT", "EXAMINE {5+}\r\nINBOX", "UNSELECT",
        "SELECT INBOX", "STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)",
        "UNSELECT", "LOGOUT"]))
    p.close()


def test_zz_rename_inbox():
    """RENAME INBOX moves every message into a new mailbox and leaves INBOX
    empty (RFC 3501 section 6.3.5). The new mailbox may number its messages
    afresh and call them \\Recent (mailvault) or keep their UIDs and not
    (Dovecot); the emptied INBOX may keep its UIDNEXT (mailvault) or start
    again at 1 (Dovecot) since its UIDVALIDITY then changes."""
    p = Pair()
    fresh = drop_lines(rb"^\* (\d+ RECENT|OK \[UIDNEXT )")
    norecent = flag_filter(b"\\Recent")
    check(p.script([
        "RENAME INBOX OldInbox", 'LIST "" OldInbox', 'LIST "" INBOX',
        "STATUS OldInbox (MESSAGES UNSEEN)", "STATUS INBOX (MESSAGES)",
        Known("SELECT INBOX", "UIDNEXT of the emptied INBOX", fm=fresh, fd=fresh),
        "UNSELECT",
        Known("EXAMINE OldInbox", "UIDs and \\Recent of moved messages",
              fm=fresh, fd=fresh),
        Known("FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)", "\\Recent of moved "
              "messages", fm=norecent, fd=norecent),
        "CREATE Target", "RENAME INBOX Target", "RENAME OldInbox INBOX"]))
    p.close()


def test_zzz_summary():
    print("%d commands answered differently, %d of them known and "
          "legitimate; %d notes" % (len(DIFFS), len([d for d in DIFFS if d[2]]),
                                   len(NOTES)))
    print("time answering: mailvault %.2f s, Dovecot %.2f s" % tuple(TIME))


run_tests(globals(), [srv])
