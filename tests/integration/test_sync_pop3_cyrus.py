"""Integration: POP3 accounts against a real Cyrus (pop3d) as well as
Dovecot (test_sync_pop3.py).

Each test has a Cyrus user of its own, its INBOX filled over IMAP, and a
store that fetches it over plain POP3 on loopback (--tls none):

 - keep (the default): every message fetched byte-exact by UIDL, none
   fetched again, all left on the server;
 - keep no: deleted on the server once fetched, and only then;
 - delete-after-days: kept until the days have passed since the fetch;
 - a run killed (SIGKILL) at byte offsets spread over the POP3 stream,
   and another cut there by the network, then run again, with keep no:
   after every interrupted run each message is in the store or still on
   the server, never twice in the store; at the end every message is in
   the store exactly once and the server is empty.
"""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from cyrus import Cyrus                                    # noqa: E402
from faultproxy import FaultProxy                          # noqa: E402
from mvlocal import MV, Local, message                     # noqa: E402
from runner import expect, run_tests, stop_at_end          # noqa: E402

TESTDIR = os.environ.get("TESTDIR") or os.getcwd()
CY = stop_at_end(Cyrus(os.path.join(TESTDIR, "cyrus"), user="setup",
                       pop3=True).start())


def fill(user, n, size=0):
    """user's INBOX with n messages; their sha256s, sorted."""
    CY.add_user(user, "pw")
    m = CY.imap(user, "pw")
    out = []
    for i in range(n):
        body = message(i, user, size=size + (i * 997) % 9000)
        typ, d = m.append("INBOX", "()", None, body)
        expect(typ == "OK", "APPEND: %s" % d)
        out.append(hashlib.sha256(body).hexdigest())
    m.logout()
    return sorted(out)


def upstream(user):
    """What user's INBOX holds, read over IMAP (Cyrus applies a POP3
    session's deletions at its QUIT, so IMAP sees the same)."""
    m = CY.imap(user, "pw")
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    m.logout()
    return sorted(hashlib.sha256(x[1]).hexdigest() for x in data
                  if isinstance(x, tuple))


def here(local):
    m = local.imap("acc")
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    m.logout()
    return sorted(hashlib.sha256(x[1]).hexdigest() for x in data
                  if isinstance(x, tuple))


def store(user, port=None, *settings):
    local = stop_at_end(Local(os.path.join(TESTDIR, "store-" + user)))
    local.add_account("acc", "pop3", port or CY.pop3_port, user, "pw")
    for k, v in settings:
        local.mv("account", "set", "acc", k, v)
    return local


def test_keep_fetches_all_byte_exact_once_and_leaves_them():
    want = fill("keep", 25)
    local = store("keep")
    summary, _ = local.sync("acc")
    expect(summary["fetched"] == 25, "fetched %s" % summary)
    expect(here(local) == want, "messages differ")
    summary, _ = local.sync("acc")
    expect(summary["fetched"] == 0, "fetched again: %s" % summary)
    expect(upstream("keep") == want, "the server lost mail")


def test_keep_no_deletes_on_the_server_once_fetched():
    want = fill("dele", 20)
    local = store("dele", None, ("keep", "no"))
    local.sync("acc")
    expect(here(local) == want, "messages differ")
    expect(upstream("dele") == [], "left on the server")


def test_delete_after_days_waits_for_the_days():
    want = fill("days", 10)
    local = store("days", None, ("delete-after-days", "2"))
    local.sync("acc")
    local.sync("acc")
    expect(upstream("days") == want, "deleted too early")
    db = sqlite3.connect(local.env["MAILVAULT_STORE"])
    db.execute("UPDATE sync_pop3 SET fetched = fetched - 3 * 86400")
    db.commit()
    db.close()
    local.sync("acc")
    expect(upstream("days") == [], "not deleted after 3 days")
    expect(here(local) == want, "local copy lost")


def interrupted_run(local, fp, way, at, kill):
    """One `mailvault sync` beside the running serve, cut at byte at
    (way: "up" or "down"), killed there with SIGKILL if kill; its exit
    status."""
    proc = {}
    env = dict(local.env, XDG_RUNTIME_DIR=os.path.join(local.dir, "run2"))
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    fp.on_cut = (lambda: os.kill(proc["p"].pid, signal.SIGKILL)) if kill \
        else None
    fp.plan((way, at) if at else None)
    proc["p"] = p = subprocess.Popen([MV, "sync", "acc"], env=env,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
    p.wait(120)
    fp.unplan()
    fp.on_cut = None
    return p.returncode


def test_killed_and_cut_runs_lose_and_double_nothing():
    n = 40
    bodies = [message(i, "kill", 3000 + (i * 997) % 9000) for i in range(n)]
    want = fill("kill", n, size=3000)
    size = {hashlib.sha256(b).hexdigest(): len(b) for b in bodies}
    fp = stop_at_end(FaultProxy(CY.pop3_port).start())
    local = store("kill", fp.port, ("keep", "no"))
    cuts = kills = 0
    # Where to cut: a fraction of the bytes still to fetch (plus the
    # greeting, login and listing), or in the client's commands.
    plan = [("down", .15), ("down", .5), ("up", 120), ("down", .85),
            ("down", .3), ("up", 400), ("down", .7), ("down", .05),
            ("down", .95), ("down", .4)]
    for i, (way, x) in enumerate(plan):
        have = here(local)
        left = sum(size[h] for h in want if h not in have)
        if left == 0:
            break
        kill = i % 2 == 0
        at = int(left * x) + 300 if way == "down" else x
        rc = interrupted_run(local, fp, way, at, kill)
        kills += kill and rc == -signal.SIGKILL
        cuts += not kill and rc not in (0, -signal.SIGKILL)
        have, there = here(local), upstream("kill")
        expect(len(have) == len(set(have)), "a message twice here")
        expect(sorted(set(have) | set(there)) == want,
               "messages lost after a run %s at byte %d %s" % (
                   "killed" if kill else "cut", at, way))
    expect(kills >= 3 and cuts >= 3, "kills %d, cuts %d" % (kills, cuts))
    interrupted_run(local, fp, "down", 0, False)
    expect(here(local) == want, "not every message exactly once here")
    expect(upstream("kill") == [], "left on the server")
    print("summary: POP3 against Cyrus: %d runs killed and %d cut, nothing "
          "lost or doubled" % (kills, cuts))


if __name__ == "__main__":
    run_tests(globals())
