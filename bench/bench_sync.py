"""Sync speed against mbsync and fetchmail (issue 5).

One Dovecot (IMAPS and POP3S, certificate from a test CA) holds a
generated account of BENCH_SYNC_MESSAGES messages (default 20,000) in four
folders, indexed beforehand so neither side pays for Dovecot's first look.
Then, in one run:

  initial sync      mbsync into a Maildir   vs  mailvault sync into a store
  no-change resync  the same, again
  200 new + 500 flag changes upstream, then a resync by each

and a POP3S maildrop of BENCH_POP3_MESSAGES (default 5,000) fetched by
fetchmail (keep, uidl, delivered by an MDA into a file) vs mailvault.
Stores are made with `init --kdf min`, so unlocking costs nothing. The
no-change resync takes a fraction of a second, so it is timed
BENCH_SYNC_REPEAT times (default 7), alternating the two tools, and the
medians are compared. Each ratio is mailvault's time over the other tool's (goal: <= 0.8 for IMAP,
<= 1.0 for POP3); the initial sync's rate is printed in MB/s. Numbers
only: nothing here fails unless a tool does.
"""
import imaplib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
from dovecot import Dovecot, free_port   # noqa: E402
from testca import TestCA                # noqa: E402

mv = os.environ["MAILVAULT"]
N = int(os.environ.get("BENCH_SYNC_MESSAGES", "20000"))
NPOP = int(os.environ.get("BENCH_POP3_MESSAGES", "5000"))
REPEAT = max(1, int(os.environ.get("BENCH_SYNC_REPEAT", "7")))
gen = [sys.executable, os.path.join(top, "scripts", "gen-corpus.py")]
work = tempfile.mkdtemp(prefix="mailvault-bench-sync.")
env = dict(os.environ, MAILVAULT_STORE=work + "/store/store.db",
           MAILVAULT_PASSPHRASE_FILE=work + "/pass",
           FETCHMAILHOME=work + "/fetchmail")
os.makedirs(work + "/fetchmail")
open(work + "/pass", "w").write("bench\n")
open(work + "/pw", "w").write("x\n")
FOLDERS = {"INBOX": 0.5, "Archive": 0.25, "Lists/dev": 0.15, "Sent": 0.10}


def populate(dv, user, folder, n, seed):
    base = dv.maildir(user)
    d = base if folder == "INBOX" else os.path.join(
        base, "." + folder.replace("/", "."))
    tmp = os.path.join(work, "gen")
    subprocess.run(gen + ["maildir", str(n), tmp, "--seed", str(seed)],
                   check=True)
    size = 0
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for fn in os.listdir(os.path.join(tmp, sub)):
            dst = fn.replace("T", "") if ":2," in fn else fn
            size += int(fn.split(",W=")[1].split(":")[0])
            shutil.move(os.path.join(tmp, sub, fn), os.path.join(d, sub, dst))
    if folder != "INBOX":
        open(os.path.join(d, "maildirfolder"), "w").close()
    shutil.rmtree(tmp)
    dv.chown_tree(base)
    return size


def timed(args, **kw):
    t0 = time.monotonic()
    p = subprocess.run(args, env=env, capture_output=True, text=True, **kw)
    t = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("%s failed (%d): %s%s" % (args[0], p.returncode,
                                           p.stdout[-1500:], p.stderr[-1500:]))
    return t


def mbsync_conf(dv, ca):
    conf = work + "/mbsyncrc"
    os.makedirs(work + "/mbsync-mail", exist_ok=True)
    with open(conf, "w") as f:
        f.write("""IMAPAccount bench
Host localhost
Port {port}
User bench
Pass x
SSLType IMAPS
CertificateFile {ca}

IMAPStore remote
Account bench

MaildirStore local
Path {work}/mbsync-mail/
Inbox {work}/mbsync-mail/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns *
Create Near
Sync All
SyncState *
""".format(port=dv.imaps_port, ca=ca, work=work))
    return conf


def changes(dv, seed):
    """200 new messages and 500 flag changes, upstream."""
    populate(dv, "bench", "INBOX", 200, seed)
    m = imaplib.IMAP4("127.0.0.1", dv.imap_port)
    m.login("bench", "x")
    m.select("INBOX")
    rng = random.Random(seed)
    uids = rng.sample(range(1, int(N * FOLDERS["INBOX"]) + 1), 500)
    for i, u in enumerate(uids):
        m.uid("STORE", str(u), "+FLAGS" if i % 2 else "-FLAGS",
              "(\\Flagged)" if i % 3 else "(\\Seen)")
    m.logout()


def ratio(name, t_mv, t_other, other):
    print("%-26s mailvault %7.2f s   %-9s %7.2f s   ratio %.2f" % (
        name, t_mv, other, t_other, t_mv / t_other if t_other else 0))


def main():
    ca = TestCA(work + "/ca")
    cert, key = ca.server("localhost")
    dv = Dovecot(work + "/dovecot", imaps_port=free_port(),
                 pop3s_port=free_port(), cert=cert, key=key).start()
    try:
        total = 0
        for i, (f, share) in enumerate(FOLDERS.items()):
            total += populate(dv, "bench", f, int(N * share), 10 + i)
        if NPOP:
            populate(dv, "pop", "INBOX", NPOP, 50)
        dv.doveadm("index", "-u", "bench", "*")
        if NPOP:
            dv.doveadm("index", "-u", "pop", "INBOX")
        print("account: %d messages, %.1f MB; POP3 maildrop: %d messages"
              % (N, total / 1e6, NPOP))

        conf = mbsync_conf(dv, ca.cert)
        subprocess.run([mv, "init", "--kdf", "min", "--quiet"], env=env,
                       check=True)
        subprocess.run([mv, "account", "add", "bench", "--imap",
                        "localhost:%d" % dv.imaps_port, "--user", "bench",
                        "--ca-file", ca.cert, "--password-file",
                        work + "/pw"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        mbsync = ["mbsync", "-q", "-c", conf, "-a"]
        sync = [mv, "--quiet", "sync", "bench"]

        t_mb = timed(mbsync)
        t_mv = timed(sync)
        ratio("initial sync", t_mv, t_mb, "mbsync")
        print("%-26s mailvault %.1f MB/s, mbsync %.1f MB/s" % (
            "initial sync rate", total / 1e6 / t_mv, total / 1e6 / t_mb))
        t_mv, t_mb = [], []
        for _ in range(REPEAT):
            t_mv.append(timed(sync))
            t_mb.append(timed(mbsync))
        ratio("no-change resync (median)", statistics.median(t_mv),
              statistics.median(t_mb), "mbsync")
        changes(dv, 77)
        t_mb = timed(mbsync)
        t_mv = timed(sync)
        ratio("200 new + 500 flags", t_mv, t_mb, "mbsync")

        if NPOP == 0:
            return
        rc = work + "/fetchmailrc"
        with open(rc, "w") as f:
            f.write('poll localhost service %d protocol POP3 uidl\n'
                    '  user "pop" password "x" keep ssl sslcertck '
                    'sslcertfile "%s"\n  mda "cat >> %s/fetchmail.mbox"\n'
                    % (dv.pop3s_port, ca.cert, work))
        os.chmod(rc, 0o600)
        subprocess.run([mv, "account", "add", "pop", "--pop3",
                        "localhost:%d" % dv.pop3s_port, "--user", "pop",
                        "--ca-file", ca.cert, "--password-file",
                        work + "/pw"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        t_fm = timed(["fetchmail", "-s", "-f", rc])
        t_mv = timed([mv, "--quiet", "sync", "pop"])
        ratio("POP3S %d messages" % NPOP, t_mv, t_fm, "fetchmail")
    finally:
        dv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
