"""Integration: randomized two-sided histories against Dovecot and Cyrus.

Random operations on both sides of a sync (append, flag and keyword
changes, MOVE and COPY, expunge, folder create, rename and delete, and
upstream a UIDVALIDITY reset: doveadm's or a folder deleted and made
again), a sync every few of them, some cut by the fault proxy at a random
byte of the protocol or killed there (SIGKILL), then synced again; after
every sync both sides are read whole and compared with the model's
answer (tests/lib/history.py, whose top comment states the rules: they
are the engine's contract). A failure prints the seed and what
happened. Then the fixed cases the histories found that the fake cannot
show (a server's own behaviour).

MAILVAULT_HISTORY_SEED=n replays a run's operations; MAILVAULT_HISTORY_
STEPS=n sets the steps per server (default 150: a few hundred in all).
`make bench` runs thousands (bench/bench_sync_history.py).
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from historyrun import folders_deleted_here, run_history  # noqa: E402
from runner import run_tests, skip                         # noqa: E402

TESTDIR = os.environ.get("TESTDIR") or os.getcwd()
SEED = int(os.environ.get("MAILVAULT_HISTORY_SEED", "0")) or \
    random.SystemRandom().randrange(1, 2 ** 31)
STEPS = int(os.environ.get("MAILVAULT_HISTORY_STEPS", "150"))
print("history: seed %d (MAILVAULT_HISTORY_SEED=%d replays it), %d steps "
      "per server" % (SEED, SEED, STEPS))
sys.stdout.flush()


SERVERS = os.environ.get("MAILVAULT_HISTORY_SERVERS", "dovecot cyrus").split()


def report(text):
    """The run's line goes into `make test`'s output (run.sh shows the
    summary: lines of a passing file), its counts into the file's log."""
    first, _, rest = text.partition("\n")
    print("summary: history against " + first)
    print(rest)


def test_random_histories_against_dovecot():
    if "dovecot" not in SERVERS:
        skip("not asked for (MAILVAULT_HISTORY_SERVERS)")
    report(run_history("dovecot", SEED, STEPS, TESTDIR))


def test_random_histories_against_cyrus():
    if "cyrus" not in SERVERS:
        skip("not asked for (MAILVAULT_HISTORY_SERVERS)")
    report(run_history("cyrus", SEED, STEPS, TESTDIR))


def test_folders_deleted_here_against_dovecot():
    folders_deleted_here("dovecot", TESTDIR)


def test_folders_deleted_here_against_cyrus():
    folders_deleted_here("cyrus", TESTDIR)


if __name__ == "__main__":
    run_tests(globals())
