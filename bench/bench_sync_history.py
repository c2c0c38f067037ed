"""Randomized two-sided sync histories, long (issue 17).

The same model-checked histories as tests/integration/test_sync_history.py
(tests/lib/history.py states the rules), thousands of steps instead of a
few hundred: BENCH_HISTORY_STEPS per run (default 1000), BENCH_HISTORY_
RUNS runs per server (default 3, each with its own seed, printed), against
a fresh Dovecot and a fresh Cyrus each. MAILVAULT_HISTORY_SEED=n makes the
first run's seed n (to replay one). Unlike the other benchmarks this one
can fail: a history the engine gets wrong prints its seed and what
happened, and the script exits non-zero; otherwise it prints steps, syncs
and the time per step.
"""
import os
import random
import shutil
import sys
import tempfile
import time
import traceback

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
os.environ.setdefault("MAILVAULT", os.path.join(top, "mailvault"))
from historyrun import run_history   # noqa: E402

STEPS = int(os.environ.get("BENCH_HISTORY_STEPS", "1000"))
RUNS = int(os.environ.get("BENCH_HISTORY_RUNS", "3"))
first = int(os.environ.get("MAILVAULT_HISTORY_SEED", "0")) or \
    random.SystemRandom().randrange(1, 2 ** 31)


def main():
    work = tempfile.mkdtemp(prefix="mailvault-bench-history.")
    os.chmod(work, 0o755)   # Cyrus and Dovecot run as another user
    failed = 0
    try:
        for server in ("dovecot", "cyrus"):
            for k in range(RUNS):
                seed = first + k
                t0 = time.time()
                try:
                    line = run_history(server, seed, STEPS, work)
                except Exception:
                    failed += 1
                    print("FAIL %s, seed %d (MAILVAULT_HISTORY_SEED=%d "
                          "replays it):" % (server, seed, seed))
                    traceback.print_exc(file=sys.stdout)
                    continue
                dt = time.time() - t0
                print(line.splitlines()[0] + "; %.1f ms per step" % (
                    1000 * dt / STEPS))
                sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("histories: %d runs of %d steps per server, %d failed" % (
        RUNS, STEPS, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
