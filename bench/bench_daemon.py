"""The idle daemon: CPU and memory with nothing to do (issue 6).

A private Dovecot (IMAPS, certificate from a test CA) holds three users,
the three upstream accounts: BENCH_DAEMON_MESSAGES (default 100,000)
generated messages in all, most in the first one's INBOX (see SHARES).
Dovecot indexes them first, so the sync does not wait for its first look.
A store made with `init --kdf min` gets the three accounts (`account add`)
and one `mailvault sync` of all three, timed. Then `mailvault daemon
start` (passphrase from MAILVAULT_PASSPHRASE_FILE), its start-up sync of
each account is waited out, and 10 IMAP clients log in with the password
of `mailvault credentials --json`, SELECT INBOX (6 on the big account, 2
on each other) and sit in IDLE.

After BENCH_DAEMON_SETTLE seconds (default 5), the daemon is watched for
BENCH_DAEMON_SECONDS (default 60): /proc/PID/stat utime+stime at both
ends (every thread counts), /proc/PID/status VmRSS each second, context
switches of all its threads (its wake-ups). Printed: CPU in % of one
core (goal < 1%), RSS at the end (goal < 64 MB) and the highest seen in
the window, VmHWM (the peak since start: the start-up sync and the
SELECTs) and wake-ups per second; a goal not met is marked MISSED. For
scale, the same 10 IDLE clients are then served by Dovecot itself (the
daemon stopped), measured the same way over all of the instance's
processes (RSS summed, which counts shared pages more than once, and
PSS). With BENCH_DAEMON_STRACE=1, `strace -c -f` runs on the daemon for
10 s after the window and its table is printed.

A benchmark, not a test: it fails only if something could not run. The
machine's load average is printed with the numbers (the CPU figure
counts the daemon's own ticks, but a busy machine still slows what it
does when it wakes).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "lib"))
from dovecot import Dovecot, free_port   # noqa: E402
from testca import TestCA                # noqa: E402

mv = os.environ["MAILVAULT"]
N = int(os.environ.get("BENCH_DAEMON_MESSAGES", "100000"))
SECONDS = float(os.environ.get("BENCH_DAEMON_SECONDS", "60"))
SETTLE = float(os.environ.get("BENCH_DAEMON_SETTLE", "5"))
STRACE = os.environ.get("BENCH_DAEMON_STRACE") == "1"
CLIENTS = 10
CPU_GOAL = 1.0          # % of one core
RSS_GOAL = 64.0         # MB
# (user, folder, share of N): three accounts, most mail in one INBOX
SHARES = [("alice", "INBOX", 0.85), ("alice", "Archive", 0.05),
          ("bob", "INBOX", 0.07), ("carol", "INBOX", 0.03)]
USERS = ["alice", "bob", "carol"]
CLIENT_USERS = ["alice"] * 6 + ["bob"] * 2 + ["carol"] * 2
CHUNK = 25000           # messages per gen-corpus run (they run in parallel)
HZ = os.sysconf("SC_CLK_TCK")

gen = [sys.executable, os.path.join(top, "scripts", "gen-corpus.py")]
work = tempfile.mkdtemp(prefix="mailvault-bench-daemon.")
env = dict(os.environ, MAILVAULT_STORE=work + "/store/store.db",
           MAILVAULT_PASSPHRASE_FILE=work + "/pass",
           XDG_RUNTIME_DIR=work + "/run", XDG_STATE_HOME=work + "/state",
           HOME=work)
with open(work + "/pass", "w") as f:
    f.write("bench\n")
with open(work + "/pw", "w") as f:
    f.write("x\n")


def run(*args, check=True, timeout=3600):
    p = subprocess.run([mv, *args], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit("mailvault %s failed (%d): %s%s" % (
            " ".join(args), p.returncode, p.stdout[-1500:], p.stderr[-1500:]))
    return p


# ---- the upstream mail ----

def generate(dv):
    """gen-corpus Maildirs moved into Dovecot's folders; total bytes."""
    jobs = []           # (folder path, n, seed)
    seed = 100
    for user, folder, share in SHARES:
        base = dv.maildir(user)
        d = base if folder == "INBOX" else os.path.join(base, "." + folder)
        n = max(1, int(N * share))
        while n > 0:
            k = min(n, CHUNK)
            jobs.append((d, k, seed))
            n -= k
            seed += 1
    running, size, i = [], 0, 0
    width = max(1, min(os.cpu_count() or 1, 4))
    while jobs or running:
        while jobs and len(running) < width:
            d, k, s = jobs.pop(0)
            tmp = os.path.join(work, "gen-%d" % i)
            i += 1
            running.append((subprocess.Popen(
                gen + ["maildir", str(k), tmp, "--seed", str(s)]), tmp, d))
        p, tmp, d = running.pop(0)
        if p.wait() != 0:
            sys.exit("gen-corpus failed")
        size += move_into(tmp, d)
    for user in USERS:
        dv.chown_tree(dv.maildir(user))
    return size


def move_into(tmp, d):
    size = 0
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for fn in os.listdir(os.path.join(tmp, sub)):
            # 'T' (trashed) would read as \Deleted: keep it out
            dst = fn.replace("T", "") if ":2," in fn else fn
            size += int(fn.split(",W=")[1].split(":")[0])
            os.rename(os.path.join(tmp, sub, fn), os.path.join(d, sub, dst))
    if os.path.basename(d).startswith("."):
        open(os.path.join(d, "maildirfolder"), "w").close()
    shutil.rmtree(tmp)
    return size


# ---- IMAP clients in IDLE ----

def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class IdleClient:
    """LOGIN, SELECT INBOX, IDLE; then it only holds the connection."""

    def __init__(self, port, user, password):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=600)
        self.f = self.s.makefile("rb")
        self.f.readline()                       # greeting
        self.command("a1", "LOGIN %s %s" % (quote(user), quote(password)))
        self.command("a2", "SELECT INBOX")
        self.s.sendall(b"a3 IDLE\r\n")
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("the server closed the connection")
            if line.startswith(b"+"):
                break
            if line.startswith(b"a3 "):
                raise RuntimeError("IDLE refused: %r" % line)

    def command(self, tag, cmd):
        self.s.sendall(("%s %s\r\n" % (tag, cmd)).encode())
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("the server closed the connection")
            if line.startswith(tag.encode() + b" "):
                if not line.startswith(tag.encode() + b" OK"):
                    raise RuntimeError("%s: %r" % (cmd.split()[0], line))
                return

    def close(self):
        try:
            self.s.sendall(b"DONE\r\na4 LOGOUT\r\n")
        except OSError:
            pass
        self.f.close()
        self.s.close()


def connect_all(port, password_of):
    return [IdleClient(port, u, password_of(u)) for u in CLIENT_USERS]


# ---- /proc ----

def proc_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])        # utime, stime


def proc_status(pid, key):
    """A "kB" line of /proc/PID/status, in MB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def proc_pss(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def proc_switches(pid):
    """Context switches of every thread: how often it woke up."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        except OSError:
            pass        # a thread that ended
    return n


def descendants(root):
    """root and every process below it."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def snapshot(pids):
    """{pid: (CPU ticks, context switches)} of the processes still there."""
    out = {}
    for p in pids:
        try:
            out[p] = (proc_ticks(p), proc_switches(p))
        except OSError:
            pass
    return out


def watch(pids_of, seconds):
    """CPU % of one core, last and highest RSS (summed), PSS, wake-ups/s
    of the processes pids_of() names, over seconds. A process that comes
    in the window counts from its start, one that goes is left out."""
    def rss():
        return sum(proc_status(p, "VmRSS") for p in pids_of())

    t0, a = time.monotonic(), snapshot(pids_of())
    peak = last = rss()
    while time.monotonic() - t0 < seconds:
        time.sleep(1)
        last = rss()
        peak = max(peak, last)
    t1, b = time.monotonic(), snapshot(pids_of())
    wall = t1 - t0
    ticks = sum(b[p][0] - a.get(p, (0, 0))[0] for p in b)
    switches = sum(b[p][1] - a.get(p, (0, 0))[1] for p in b)
    return {"cpu": ticks / HZ / wall * 100.0, "rss": last, "peak": peak,
            "pss": sum(proc_pss(p) for p in pids_of()),
            "wakeups": switches / wall, "seconds": wall}


def mark(ok):
    return "" if ok else "  MISSED"


# ---- the daemon ----

def wait_synced(timeout=3600):
    """Until each account's start-up sync in the daemon has ended: none is
    syncing and each has its next sync planned (it has none before its
    first run ends). Asked every 2 s, and never again once this returns:
    a status request is work for the daemon."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = run("--json", "status", check=False, timeout=60)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            j = {}
        accts = j.get("accounts") or []
        if len(accts) >= len(USERS) and all(
                not a.get("syncing") and a.get("next_sync") for a in accts):
            return
        time.sleep(2)
    sys.exit("the daemon's start-up sync did not end: %s" % p.stdout[-1500:])


def daemon_pid():
    with open(os.path.join(work, "state", "mailvault", "mailvault.pid")) as f:
        return int(f.read().split()[0])


def strace(pid, seconds=10):
    p = subprocess.run(["timeout", "-s", "INT", str(seconds), "strace",
                        "-c", "-f", "-p", str(pid)], capture_output=True,
                       text=True)
    # the table, without strace's attach/detach lines
    return p.stderr[p.stderr.find("% time"):]


def main():
    print("machine: %d CPUs, load average %.2f %.2f %.2f" % (
        (os.cpu_count() or 0,) + os.getloadavg()))
    ca = TestCA(work + "/ca")
    cert, key = ca.server("localhost")
    dv = Dovecot(work + "/dovecot", imaps_port=free_port(), cert=cert,
                 key=key, extra_conf="mail_max_userip_connections = 100\n")
    dv.start()
    daemon_started = False
    clients = []
    try:
        t0 = time.monotonic()
        size = generate(dv)
        t_gen = time.monotonic() - t0
        t0 = time.monotonic()
        for u in USERS:
            dv.doveadm("index", "-u", u, "*")
        t_index = time.monotonic() - t0
        print("upstream: %d messages, %.0f MB, in 3 accounts (%s); "
              "generated in %.0f s, indexed by Dovecot in %.0f s" % (
                  N, size / 1e6, ", ".join("%s/%s %d" % (u, f, int(N * s))
                                           for u, f, s in SHARES),
                  t_gen, t_index))

        port = free_port()
        run("init", "--kdf", "min", "--quiet")
        for k in ("imaps-port", "pop3-port", "pop3s-port"):
            run("config", "set", k, "0")
        run("config", "set", "imap-port", str(port))
        for u in USERS:
            run("account", "add", u, "--imap", "localhost:%d" % dv.imaps_port,
                "--user", u, "--ca-file", ca.cert, "--password-file",
                work + "/pw")
        t0 = time.monotonic()
        run("--quiet", "sync")
        t_sync = time.monotonic() - t0
        print("initial sync (3 accounts, IMAPS): %.1f s, %.1f MB/s" % (
            t_sync, size / 1e6 / t_sync))
        store_mb = sum(os.path.getsize(os.path.join(work, "store", f))
                       for f in os.listdir(work + "/store")) / 1e6
        print("store: %.0f MB" % store_mb)

        started = time.time()
        run("daemon", "start")
        daemon_started = True
        pid = daemon_pid()
        wait_synced()
        print("daemon start-up sync done %.1f s after start" % (
            time.time() - started))
        password = json.loads(run("--json", "credentials").stdout)["password"]
        rss0 = proc_status(pid, "VmRSS")
        t0 = time.monotonic()
        clients = connect_all(port, lambda u: password)
        print("%d clients logged in, SELECTed INBOX and IDLE in %.1f s; "
              "RSS %.1f MB before them, %.1f MB after" % (
                  len(clients), time.monotonic() - t0, rss0,
                  proc_status(pid, "VmRSS")))
        time.sleep(SETTLE)
        load0 = os.getloadavg()[0]
        m = watch(lambda: [pid], SECONDS)
        load1 = os.getloadavg()[0]
        print("mailvault daemon, idle %.0f s with %d IDLE clients "
              "(load average %.2f -> %.2f):" % (m["seconds"], CLIENTS,
                                                load0, load1))
        print("  CPU %.2f%% of one core (goal < %.0f%%)%s" % (
            m["cpu"], CPU_GOAL, mark(m["cpu"] < CPU_GOAL)))
        print("  RSS %.1f MB (goal < %.0f MB)%s; highest in the window "
              "%.1f MB; peak since start (VmHWM) %.1f MB" % (
                  m["rss"], RSS_GOAL, mark(m["rss"] < RSS_GOAL), m["peak"],
                  proc_status(pid, "VmHWM")))
        print("  wake-ups %.1f/s (context switches of all %d threads)" % (
            m["wakeups"], len(os.listdir("/proc/%d/task" % pid))))
        if STRACE:
            print("strace -c -f on the daemon for 10 s:")
            print(strace(pid))
        for c in clients:
            c.close()
        clients = []
        run("daemon", "stop")
        daemon_started = False

        # the same clients on Dovecot itself
        with open(os.path.join(dv.root, "run", "master.pid")) as f:
            master = int(f.read().split()[0])
        clients = connect_all(dv.imap_port, lambda u: "x")
        time.sleep(SETTLE)
        d = watch(lambda: descendants(master), SECONDS)
        print("Dovecot, the same %d IDLE clients, all its processes "
              "(%d now):" % (CLIENTS, len(descendants(master))))
        print("  CPU %.2f%% of one core; RSS %.1f MB summed (PSS %.1f MB); "
              "wake-ups %.1f/s" % (d["cpu"], d["rss"], d["pss"],
                                   d["wakeups"]))
    finally:
        for c in clients:
            c.close()
        if daemon_started:
            run("daemon", "stop", check=False)
        dv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM (and SIGINT, ignored in a background job) cleans up too
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("stopped"))
    signal.signal(signal.SIGINT, lambda *a: sys.exit("stopped"))
    main()
