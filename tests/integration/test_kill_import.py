"""A process killed with SIGKILL in the middle of an import leaves a store
that passes check, and importing again finishes without a duplicate."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import GEN_CORPUS, MV, SANITIZED, Store      # noqa: E402
from runner import expect, run_tests                     # noqa: E402

st = Store("kill")
N = 1500 if SANITIZED else int(os.environ.get("KILL_MESSAGES", "4000"))
MBOX = os.path.join(st.dir, "in.mbox")
subprocess.run([sys.executable, GEN_CORPUS, "mbox", str(N), MBOX,
                "--seed", "11"], check=True)
with open(MBOX, "rb") as f:
    WANT = sum(1 for line in f if line.startswith(b"From "))


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def test_an_import_killed_mid_way_leaves_a_store_that_passes_check():
    # Kill when the store has grown by some amount, so the kill lands in
    # the middle of the work whatever the machine's speed.
    kills = 0
    for grow in (1, 3, 6, 10):
        before = size(st.path)
        p = subprocess.Popen([MV, "import", "k", MBOX, "--mailbox", "INBOX",
                              "--quiet"],
                             env=st.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        for _ in range(2000):
            if p.poll() is not None or (size(st.path) + size(
                    st.path + "-wal") > before + grow * 1000000):
                break
            time.sleep(0.01)
        if p.poll() is None:
            p.kill()
            kills += 1
        p.wait()
        st.mv("check", "--quiet")
    expect(kills >= 2, "only %d imports were killed mid-way" % kills)
    print("killed %d imports mid-way; every time the store passed check"
          % kills)


def test_importing_again_completes_without_a_duplicate():
    st.mv("import", "k", MBOX, "--mailbox", "INBOX", "--quiet")
    boxes = json.loads(st.mv("--json", "ls", "k").stdout)
    count = [m for m in boxes if m["name"] == "INBOX"][0]["messages"]
    expect(count == WANT, "after resuming: %d messages, want %d" % (
        count, WANT))
    out = os.path.join(st.dir, "out.mbox")
    st.mv("export", "k", out, "--mailbox", "INBOX")
    with open(MBOX, "rb") as a, open(out, "rb") as b:
        expect(a.read() == b.read(), "resumed import differs from the input")
    print("resumed import complete: %d messages, no duplicate" % count)


run_tests(globals())
