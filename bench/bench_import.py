"""Import speed and store size against Dovecot (issue 2).

The same generated mbox (BENCH_MESSAGES, default 5000) is imported by
`mailvault import` into a fresh store and by Dovecot's `doveadm import` into
a Maildir; the store's size is compared with that Maildir's `du`. Then the
peak RSS of importing one 100 MB message. Goals: import <= 0.3x Dovecot's
time, store <= 0.5x the Maildir, RSS < 32 MB.
"""
import os, shutil, subprocess, sys, tempfile, time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
from dovecot import Dovecot  # noqa: E402

mv = os.environ["MAILVAULT"]
n = int(os.environ.get("BENCH_MESSAGES", "5000"))
gen = [sys.executable, os.path.join(top, "scripts", "gen-corpus.py")]
work = tempfile.mkdtemp(prefix="mailvault-bench.")
env = dict(os.environ, MAILVAULT_STORE=work + "/store/store.db",
           MAILVAULT_PASSPHRASE_FILE=work + "/pass")
open(work + "/pass", "w").write("bench\n")


def du_bytes(path):
    out = subprocess.run(["du", "-sk", path], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) * 1024


def peak_rss(args):
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return ru.ru_maxrss / 1024.0


try:
    mbox = work + "/in.mbox"
    subprocess.run(gen + ["mbox", str(n), mbox, "--seed", "1"], check=True)
    size = os.path.getsize(mbox)
    print("corpus: %d messages, %.1f MB mbox" % (n, size / 1e6))

    subprocess.run([mv, "init", "--kdf", "min", "--quiet"], env=env, check=True)
    t0 = time.monotonic()
    subprocess.run([mv, "import", "bench", mbox, "--mailbox", "INBOX", "--quiet"], env=env, check=True)
    t_mv = time.monotonic() - t0
    store_bytes = du_bytes(work + "/store")

    dv = Dovecot(work + "/dovecot").start()
    try:
        src = work + "/dovecot/src"
        os.makedirs(src)
        shutil.copy(mbox, src + "/INBOX")
        dv.chown_tree(src)
        t0 = time.monotonic()
        dv.doveadm("import", "-u", "bench", "-s", "mbox:%s:INBOX=%s/INBOX" % (src, src), "", "all")
        t_dv = time.monotonic() - t0
        maildir_bytes = du_bytes(dv.maildir("bench"))
    finally:
        dv.stop()

    print("import: mailvault %.2f s, Dovecot doveadm import %.2f s: ratio %.2fx (goal <= 0.3x)"
          % (t_mv, t_dv, t_mv / t_dv))
    print("size: store %.1f MB, Dovecot Maildir %.1f MB: ratio %.2fx (goal <= 0.5x)"
          % (store_bytes / 1e6, maildir_bytes / 1e6, store_bytes / maildir_bytes))

    big = work + "/big.eml"
    subprocess.run(gen + ["big", "73", big], check=True)
    rss = peak_rss([mv, "import", "bigone", big, "--format", "eml", "--quiet"])
    print("RSS importing one %.0f MB message: %.1f MB (goal < 32 MB)"
          % (os.path.getsize(big) / 1e6, rss))
    rss = peak_rss([mv, "show", "bigone/INBOX", "1"])
    print("RSS showing it: %.1f MB" % rss)
finally:
    shutil.rmtree(work, ignore_errors=True)
