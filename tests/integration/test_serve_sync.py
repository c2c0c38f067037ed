"""`mailvault serve` syncs in the background: mail already upstream is
there after the first sync, new mail delivered upstream reaches a local
IDLE client without any CLI call (the upstream IDLE wakes the sync), and a
`mailvault sync` run beside it takes turns with it (per-account lock)
without pulling anything twice."""
import imaplib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import free_port, wait_for                   # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import Env                                 # noqa: E402

MSG = (b"From: Upstream Sender <up@example.org>\r\nTo: bob@example.org\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody %s\r\n")

env = stop_at_end(Env("serve"))
env.add_imap()
up = env.remote()
up.append("INBOX", None, None, MSG % (b"first", b"m1", b"one"))
env.serve_port = free_port()
env.serve(imap=env.serve_port)        # syncing: no --no-sync
local = {}


def connect():
    try:
        m = imaplib.IMAP4("127.0.0.1", env.serve_port)
    except OSError:
        return False
    m.login("acc", env.password)
    local["m"] = m
    return True


def count():
    typ, data = local["m"].select("INBOX")
    return int(data[0]) if typ == "OK" else -1


def test_initial_sync():
    wait_for(connect, 20, "the server to start", step=0.2)
    wait_for(lambda: count() == 1, 30, "the first sync", step=0.2)


def test_idle_wakeup():
    m = local["m"]
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    expect(m.readline().startswith(b"+"), "IDLE not accepted")
    up.append("INBOX", None, None, MSG % (b"second", b"m2", b"two"))
    start = time.time()
    m.sock.settimeout(60)
    line = m.readline()
    waited = time.time() - start
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag.encode()):
        pass
    expect(b"EXISTS" in line, "no EXISTS in IDLE: %r" % line)
    print("new upstream mail reached the IDLE client in %.1f s" % waited)


def test_cli_sync_beside_serve():
    # Both may sync the account; one waits for the other, and
    # nothing is pulled twice.
    for _ in range(3):
        env.sync("acc")
    expect(count() == 2, "INBOX has %d messages, want 2" % count())


def test_clean_stop_and_the_log_mentions_sync():
    """serve exits 0 on SIGTERM, without the password in its log, which
    says it synced."""
    try:
        local["m"].logout()
    except Exception:  # noqa: BLE001 - the server may be gone already
        pass
    text = env.stop_serve()
    expect("syncing acc" in text, "no sync line in the log:\n" +
           text[-2000:])


run_tests(globals())
