"""What the integration tests share about running mailvault.

Store(name) is a store of its own under $TESTDIR/name (init --kdf min):
its environment points MAILVAULT_STORE, the passphrase file and the
runtime and state folders (control socket, daemon log, pid file) inside
that folder, so a test never reaches the machine's store or daemon, nor
another test's. mv() runs the CLI on it without a terminal, fails() where
it must fail with a sentence; ask() talks to a daemon's control socket.
serve() starts `mailvault serve` on the ports given (0: off), waits until
it accepts, and reads the local password and certificate fingerprint;
stop() sends SIGTERM and fails unless the server exits 0 without the
password anywhere in its log (the runner stops what it is given).

free_port() (from dovecot.py), wait_for() and alive() are the small waits
every test needs; none of them is a fixed sleep.
"""
import json
import os
import signal
import socket
import subprocess
import time

from dovecot import free_port  # noqa: F401 - one copy, the tests' too
from runner import expect

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, "tests", "corpus")
MV = os.environ.get("MAILVAULT", os.path.join(TOP, "mailvault"))
TESTDIR = os.path.abspath(os.environ.get("TESTDIR") or os.getcwd())
SANITIZED = bool(os.environ.get("MAILVAULT_SANITIZED"))
GEN_CORPUS = os.path.join(TOP, "scripts", "gen-corpus.py")


def scale(n):
    """Fewer messages under the sanitizers, which run several times
    slower; never below 20."""
    return max(20, n // 5) if SANITIZED else n


def wait_for(cond, seconds, what, step=0.05):
    """Poll cond() until it is true; AssertionError naming what after
    seconds (a bound for a hung program, not a speed requirement)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    """Whether pid runs; a zombie is gone for our purposes (a daemon is
    not our child, so nobody reaps it at once)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Store:
    """A store of its own under $TESTDIR/name; see the module comment."""

    def __init__(self, name, passphrase="correct horse battery staple",
                 env=None, init=True):
        self.dir = os.path.join(TESTDIR, name)
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "store", "store.db")
        self.passfile = os.path.join(self.dir, "pass")
        with open(self.passfile, "w") as f:
            f.write(passphrase + "\n")
        run = os.path.join(self.dir, "run")
        os.makedirs(run, mode=0o700, exist_ok=True)
        self.env = dict(os.environ, MAILVAULT_STORE=self.path,
                        MAILVAULT_PASSPHRASE_FILE=self.passfile,
                        XDG_RUNTIME_DIR=run,
                        XDG_STATE_HOME=os.path.join(self.dir, "state"))
        self.env.update(env or {})
        state = os.path.join(self.env["XDG_STATE_HOME"], "mailvault")
        self.ctl_dir = os.path.join(self.env["XDG_RUNTIME_DIR"], "mailvault")
        self._ctl = None
        self.log = os.path.join(state, "mailvault.log")
        self.pidfile = os.path.join(state, "mailvault.pid")
        self.proc = None
        self.password = None
        if init:
            self.mv("init", "--kdf", "min", "--quiet")

    @property
    def ctl(self):
        """The control socket of this store's daemon (one per store, named
        from the store's path), as `daemon status --json` says."""
        if self._ctl is None:
            p = self.mv("--json", "daemon", "status", check=False)
            self._ctl = json.loads(p.stdout)["socket"]
        return self._ctl

    def mv(self, *args, check=True, timeout=300, env=None, **kw):
        """Run mailvault (no terminal, stdin empty); the completed
        process, its output as text unless text=False. check: fail unless
        it exits 0."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("text", True)
        if kw["text"]:
            kw.setdefault("errors", "replace")  # a subject may be Latin-1
        p = subprocess.run([MV, *args], env=env or self.env,
                           capture_output=True, timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError("mailvault %s failed (%d): %s%s" % (
                " ".join(args), p.returncode, p.stdout[-2000:],
                p.stderr[-2000:]))
        return p

    def fails(self, what, *args, **kw):
        """Run mailvault where it must fail with a sentence of its own
        ("mailvault: ...") on stderr; the process."""
        p = self.mv(*args, check=False, **kw)
        expect(p.returncode != 0, "%s: succeeded but should have failed"
               % what)
        expect("mailvault: " in p.stderr, "%s: no error message on "
               "stderr: %r" % (what, p.stderr))
        print("ok: %s: %s" % (what, p.stderr.splitlines()[0]))
        return p

    def ask(self, line, timeout=10):
        """One command (bytes, with its newline) over the control socket
        of the daemon on this store, as its owner: the whole answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.ctl)
        s.sendall(line)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return data.decode()

    def serve(self, imap=0, imaps=0, pop3=0, pop3s=0, extra_args=()):
        """Start `mailvault serve`; wait for the first port that is on."""
        self.logfile = open(os.path.join(self.dir, "serve.log"), "w+")
        self.proc = subprocess.Popen(
            [MV, "serve", "--imap-port", str(imap), "--imaps-port",
             str(imaps), "--pop3-port", str(pop3), "--pop3s-port",
             str(pop3s), *extra_args],
            env=self.env, stdout=self.logfile, stderr=subprocess.STDOUT)
        port = [p for p in (imap, pop3, imaps, pop3s) if p][0]
        deadline = time.time() + 20
        while not accepts(port):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("serve did not start: " + self.logtext())
            time.sleep(0.05)
        creds = json.loads(self.mv("--json", "credentials").stdout)
        self.password = creds["password"]
        self.fingerprint = creds["fingerprint"]

    def logtext(self):
        self.logfile.flush()
        with open(self.logfile.name, errors="replace") as f:
            return f.read()

    def stop_serve(self, check=True):
        """SIGTERM to the server; with check, fail unless it exits 0 and
        never logged the password. Its log text, or "" when none ran."""
        if self.proc is None:
            return ""
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError("serve did not stop on SIGTERM")
        text = self.logtext()
        self.logfile.close()
        if check:
            assert proc.returncode == 0, "serve exited %s: %s" % (
                proc.returncode, text[-2000:])
            assert self.password not in text, \
                "the password appears in the server log"
        return text

    def stop(self):
        return self.stop_serve()
