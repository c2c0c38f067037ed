"""Integration: crashes and network faults during a sync.

- SIGKILL at 20 or more random moments during one large initial sync,
  each time running `mailvault sync` again: at the end the store equals
  Dovecot exactly, without a duplicate or a loss.
- The fault proxy cuts the connection in the middle of FETCH literals
  (server to client) and in the middle of an APPEND (client to server):
  the sync fails with a sentence, the next one resumes and finishes, and
  nothing is doubled on either side.
"""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from faultproxy import FaultProxy                        # noqa: E402
from mvtest import MV, scale                             # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import Env, compare                        # noqa: E402

rng = random.Random(int(os.environ.get("SEED", "0")) or time.time())
PROXIED = {}


def test_sigkill_at_20_random_moments_then_a_final_sync_is_equal():
    """SIGKILL at 20+ random moments, then a final sync: equal, no
    duplicates."""
    env = stop_at_end(Env("crash"))
    env.populate({"INBOX": scale(2500), "Lists/Big": scale(1000)}, seed=3)
    env.add_imap()
    kills = runs = 0
    while kills < 20 and runs < 200:
        runs += 1
        p = subprocess.Popen([MV, "sync", "acc"], env=env.env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.03, 0.35))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        if p.returncode == 0 and kills < 20:
            # finished early: more mail arrives, keep going
            env.populate({"INBOX": scale(300)}, seed=100 + runs)
    expect(kills >= 20, "only %d kills" % kills)
    env.sync("acc")
    compare(env)
    print("     %d kills in %d runs" % (kills, runs))
    env.stop()


def proxied():
    """A Dovecot reached through the fault proxy, made on first use."""
    if not PROXIED:
        env = stop_at_end(Env("proxy"))
        env.populate({"INBOX": scale(600)}, seed=5)
        fp = stop_at_end(FaultProxy(env.dv.imaps_port).start())
        env.add_imap(port=fp.port)
        PROXIED["env"], PROXIED["fp"] = env, fp
    return PROXIED["env"], PROXIED["fp"]


def test_connections_cut_mid_literal_the_sync_resumes_and_finishes():
    env, fp = proxied()
    fp.plan(("down", 250000), ("down", 600000))
    fails = 0
    for _ in range(6):
        p = env.sync("acc", check=False)
        if p.returncode == 0:
            break
        fails += 1
        out = (p.stdout + p.stderr).lower()
        expect("lost" in out or "closed" in out, "no reason: " + out)
    expect(fp.cuts == 2 and fails == 2, "cuts %d, failed syncs %d" % (
        fp.cuts, fails))
    compare(env)


def test_connections_cut_mid_append_appended_once_both_sides_equal():
    env, fp = proxied()
    loc = env.local()
    for i in range(3):
        body = (b"From: me@here\r\nSubject: big %d\r\nMessage-ID: "
                b"<big%d@here>\r\n\r\n" % (i, i)) + (
                    b"x" * 76 + b"\r\n") * 4000
        loc.append("INBOX", "(\\Seen)", None, body)
    loc.logout()
    sent_before = sum(len(b) for b in fp.sent)
    fp.plan(("up", 120000), ("up", 500000))
    for _ in range(6):
        if env.sync("acc", check=False).returncode == 0:
            break
    expect(fp.cuts == 4, "cuts %d (want 2 more)" % fp.cuts)
    expect(sum(len(b) for b in fp.sent) > sent_before, "nothing sent")
    compare(env)
    r = env.remote()
    r.select("INBOX", readonly=True)
    typ, d = r.uid("SEARCH", "HEADER", "Message-ID", "big1@here")
    r.logout()
    expect(len(d[0].split()) == 1, "APPEND made %d times" % len(
        d[0].split()))


run_tests(globals())
