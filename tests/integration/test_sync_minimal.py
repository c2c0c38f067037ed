"""Integration: `mailvault sync` against servers with less than Dovecot.

The same round as the Cyrus tests (mvlocal.round_trip: initial sync,
flags, expunges, appends, a move, folder create/rename/delete both ways,
a three-way flag conflict, UIDVALIDITY resets, both sides compared
message by message after each sync) against a Dovecot made to look like
Exchange, Courier and older servers:

 - no extensions: the capability list after login is only IMAP4rev1 and
   NAMESPACE, so no CONDSTORE/QRESYNC (flags by a full scan), no UIDPLUS
   (no APPENDUID/COPYUID: copies found by Message-ID or content), no
   MOVE (COPY, then \\Deleted and EXPUNGE), no LIST-STATUS, no ESEARCH,
   no SPECIAL-USE, no IDLE, no LITERAL+;
 - the personal namespace below "INBOX." with "." as separator, so a
   local top-level folder is made as INBOX.<name> upstream;
 - both at once.

And the last-copy rule where only a plain EXPUNGE exists (no UIDPLUS):
a message another client marked \\Deleted (and did not expunge) is not
removed by the sync's expunge of a message deleted here; that one stays
marked \\Deleted upstream instead, and the sync says so.

Plain IMAP on loopback (--tls none).
"""
import imaplib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from dovecot import Dovecot                                # noqa: E402
from faultproxy import FaultProxy                          # noqa: E402
from mvlocal import (Case, expect, flags_of, message_uid,  # noqa: E402
                     msgid, round_trip)
from runner import run_tests                               # noqa: E402

TESTDIR = os.environ.get("TESTDIR") or os.getcwd()
MINIMAL = "IMAP4rev1 NAMESPACE"
# What a client must not send to a server that offers none of it.
EXTENSIONS = (b"UID MOVE", b"CHANGEDSINCE", b"ENABLE", b"CONDSTORE",
              b"QRESYNC", b"IDLE", b"RETURN (", b"UID EXPUNGE", b"VANISHED")


class Shape:
    """A Dovecot of one shape, as mvlocal's upstream: any user logs in
    with the password x."""

    def __init__(self, name, capabilities=None, prefix=None):
        self.prefix, self.sep = prefix or "", "."
        self.dv = Dovecot(os.path.join(TESTDIR, name),
                          capabilities=capabilities,
                          namespace_prefix=prefix, separator=self.sep)
        self.dv.start()
        # mailvault goes through a proxy that keeps what it sent
        self.proxy = FaultProxy(self.dv.imap_port).start()
        self.imap_port = self.proxy.port

    def add_user(self, user, password):
        pass

    def imap(self, user, password):
        m = imaplib.IMAP4("127.0.0.1", self.dv.imap_port)
        m.login(user, password)
        return m

    def name(self, local):
        if local == "INBOX":
            return local
        return self.prefix + local.replace("/", self.sep)

    def local_name(self, remote):
        if remote == "INBOX":
            return remote
        if not remote.startswith(self.prefix):
            return None
        return remote[len(self.prefix):].replace(self.sep, "/")

    def stop(self):
        self.proxy.stop()
        self.dv.stop()

    def logtext(self):
        return self.dv.log()


def shape_test(name, capabilities=None, prefix=None):
    s = Shape(name, capabilities, prefix)
    try:
        c = Case(s, "alice", os.path.join(TESTDIR, "store-" + name),
                 password="x")
        caps = c.remote().capabilities
        if capabilities is not None:
            for cap in ("UIDPLUS", "CONDSTORE", "MOVE", "LIST-STATUS"):
                assert cap not in caps, "Dovecot still offers " + cap
        try:
            round_trip(c)
        finally:
            c.local.stop()
        sent = b"".join(s.proxy.sent)
        if capabilities is not None:
            used = [x.decode() for x in EXTENSIONS if x in sent]
            assert not used, "sent to a server without them: %s" % used
        else:   # the check above can see them
            assert b"UID MOVE" in sent and b"CHANGEDSINCE" in sent, \
                "a full Dovecot's MOVE and CONDSTORE went unused"
    finally:
        s.stop()


def test_a_plain_expunge_never_takes_another_clients_deleted_message():
    s = Shape("guard", capabilities=MINIMAL)
    c = None
    try:
        c = Case(s, "alice", os.path.join(TESTDIR, "store-guard"),
                 password="x")
        for i in range(3):
            c.append("INBOX", i)
        c.sync()
        r = c.remote()
        r.select("INBOX")
        r.uid("STORE", message_uid(r, "INBOX", msgid(0, "INBOX")), "+FLAGS",
              "(\\Deleted)")
        r.logout()
        h = c.here()
        h.select("INBOX")
        h.uid("STORE", message_uid(h, "INBOX", msgid(1, "INBOX")), "+FLAGS",
              "(\\Deleted)")
        h.expunge()
        h.logout()
        summary, out = c.sync()
        expect("would remove them too" in out, "not said:\n" + out)
        r = c.remote()
        r.select("INBOX")
        typ, d = r.uid("SEARCH", "ALL")
        uids = d[0].split()
        expect(len(uids) == 3, "%d messages upstream, want all 3 (two "
               "marked \\Deleted)" % len(uids))
        expect("\\Deleted" in flags_of(r, "INBOX", msgid(0, "INBOX")),
               "the other client's mark is gone")
        r.logout()
    finally:
        if c is not None:
            c.local.stop()
        s.stop()


def test_no_extensions():
    shape_test("bare", capabilities=MINIMAL)


def test_personal_namespace_below_inbox():
    shape_test("inboxns", prefix="INBOX.")


def test_no_extensions_and_namespace_below_inbox():
    shape_test("both", capabilities=MINIMAL, prefix="INBOX.")


if __name__ == "__main__":
    run_tests(globals())
