"""Integration: a POP3 server without UIDL (tests/lib/pop3_nouidl.py).

Without UIDL the POP3 driver tells messages apart by a hash of their
headers (TOP n 0), and says so. Shown: the first sync fetches every
message byte-exact and the output says the fallback is used; a second
sync fetches nothing; a new message is fetched, and so is a second copy
of a message with the very same header; `keep no` deletes from the
server what was fetched, and `delete-after-days` waits its days.
"""
import hashlib
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from pop3_nouidl import Pop3NoUidl                        # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import Env                                 # noqa: E402


def msg(i, body=None):
    return (b"From: sender%d@example.org\r\nTo: me@example.org\r\n"
            b"Subject: message %d\r\nMessage-ID: <%d@nouidl.test>\r\n\r\n"
            % (i, i, i)) + (body or b"line one\r\n.leading dot\r\n") + \
        b"\r\n"


def local(env, account):
    """sha256 of each message in the account's INBOX, sorted."""
    out = env.mv("--json", "ls", account + "/INBOX").stdout
    n = len(json.loads(out))
    m = env.local(account)
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    m.logout()
    got = sorted(hashlib.sha256(x[1]).hexdigest() for x in data
                 if isinstance(x, tuple))
    expect(len(got) == n, "ls and IMAP disagree")
    return got


def digests(msgs):
    return sorted(hashlib.sha256(m).hexdigest() for m in msgs)


def add(env, name, port):
    env.mv("account", "add", name, "--pop3", "127.0.0.1:%d" % port,
           "--user", "someone", "--tls", "none", "--password-file",
           env.pwfile)


env = stop_at_end(Env("nouidl", dovecot=False))
srv = stop_at_end(Pop3NoUidl(password="x").start())
for i in range(6):
    srv.add(msg(i))
add(env, "p", srv.port)


def test_first_sync_fetches_all_byte_exact_and_says_it_uses_header_hashes():
    summary, p = env.sync_json("p")
    expect("has no UIDL" in p.stderr and "hash of their headers" in
           p.stderr, "the fallback is not said: " + p.stderr)
    expect(summary["fetched"] == 6, "not all fetched: %s" % summary)
    expect(local(env, "p") == digests(srv.messages()), "messages "
           "differ")
    expect(any(c.startswith("TOP ") for c in srv.commands),
           "no TOP sent")


def test_a_second_sync_fetches_nothing():
    seen = len(srv.commands)
    summary, p = env.sync_json("p")
    expect(summary["fetched"] == 0, "refetched: %s" % summary)
    expect(not any(c.startswith("RETR") for c in srv.commands[seen:]),
           "RETR sent on a sync with nothing new")


def test_a_new_message_and_one_with_the_same_header_are_fetched_once():
    srv.add(msg(10))
    # the same header again, another body: a message delivered twice
    srv.add(msg(3, b"a different body\r\n"))
    summary, p = env.sync_json("p")
    expect(summary["fetched"] == 2, "want 2 new: %s" % summary)
    expect(local(env, "p") == digests(srv.messages()), "messages "
           "differ")
    summary, p = env.sync_json("p")
    expect(summary["fetched"] == 0, "refetched: %s" % summary)


def test_keep_no_deletes_fetched_messages_from_the_server():
    env.mv("account", "set", "p", "keep", "no")
    before = digests(srv.messages())
    summary, p = env.sync_json("p")
    expect(summary["fetched"] == 0, "refetched: %s" % summary)
    expect(srv.messages() == [], "left on the server: %d" %
           len(srv.messages()))
    expect(local(env, "p") == before, "local copies lost")
    srv.add(msg(20))
    env.sync_json("p")
    expect(srv.messages() == [], "a new one was left on the server")
    expect(len(local(env, "p")) == len(before) + 1, "new one missing")


def test_delete_after_days_keeps_for_now_and_deletes_3_days_later():
    srv2 = stop_at_end(Pop3NoUidl(password="x").start())
    for i in range(3):
        srv2.add(msg(30 + i))
    add(env, "d", srv2.port)
    env.mv("account", "set", "d", "delete-after-days", "2")
    env.sync_json("d")
    env.sync_json("d")
    expect(len(srv2.messages()) == 3, "deleted too early")
    db = sqlite3.connect(env.env["MAILVAULT_STORE"])
    db.execute("UPDATE sync_pop3 SET fetched = fetched - 3 * 86400")
    db.commit()
    db.close()
    summary, p = env.sync_json("d")
    expect(srv2.messages() == [], "not deleted after 3 days: %s" %
           summary)
    expect(len(local(env, "d")) == 3, "local copies lost")


run_tests(globals())
