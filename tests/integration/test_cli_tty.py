"""Integration: the CLI driven through a terminal, and through pipes.

Each command runs twice, as a person and as a script would run it: on a
pseudo-terminal (os.openpty, made the child's controlling terminal, 80
columns unless said otherwise) and on pipes in a session of its own (no
controlling terminal at all). What must hold:

  - init asks the passphrase twice on the terminal with echo off (the
    typed text never appears in what the terminal shows, echo is back on
    afterwards, each prompt ends its line) and refuses two that differ;
    without a terminal it says how to give one instead of waiting;
  - a wrong passphrase gets a sentence and a non-zero exit, both ways;
  - Ctrl-C at a prompt leaves the terminal echoing again;
  - import of a few thousand generated messages (an mbox) draws a bar
    redrawn in place (bare carriage returns, erase to end of line, a
    rate, a message count that grows, the time left), never wider than
    the terminal (80 and 50 columns), its last frame ended by a newline
    before the summary; a Maildir (no size known beforehand) redraws the
    counts without a bar that could never fill; on a pipe: no carriage
    return and no escape sequence at all, and the same summary;
  - account add asks the upstream password without echo;
  - sync against a real Dovecot (TLS from a test CA) shows a bar per
    account on the terminal and plain lines on a pipe, then a summary per
    account; through a running daemon (`serve`) the same bar from the
    numbers of its progress lines, never the raw lines; and the daemon's
    log names the folder its IDLE connection is for, never '?'.

Prompts are answered as soon as they show, and echo must be off by then.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from dovecot import Dovecot, free_port   # noqa: E402
from mvtest import accepts, wait_for     # noqa: E402
from ptyrun import Pty, run_pty          # noqa: E402
from runner import expect, run_tests     # noqa: E402
from testca import TestCA                # noqa: E402

MV = os.environ.get("MAILVAULT", os.path.join(TOP, "mailvault"))
TESTDIR = os.path.abspath(os.environ.get("TESTDIR") or os.getcwd())
WORK = os.path.join(TESTDIR, "tty")
NMSG = 2500                 # generated messages, imported
NSMALL = 1000               # of them, imported on narrow terminals
NSYNC = NMSG // 2           # upstream in each of two users' INBOX
PASS = "tty-Secret-passphrase-4711"
UPSTREAM_PW = "upstream-Pw-9132"
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# ---- running commands ----

def run_pipe(args, env, timeout=120):
    """Run on pipes with no controlling terminal; (rc, stdout, stderr)."""
    p = subprocess.run([MV, *args], env=env, capture_output=True,
                       stdin=subprocess.DEVNULL, start_new_session=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check_plain(text, what):
    expect("\r" not in text, "%s: a carriage return on a pipe: %r"
           % (what, text[-600:]))
    expect("\x1b" not in text, "%s: an escape sequence on a pipe: %r"
           % (what, text[-600:]))


def bar_frames(text):
    """The frames of a bar redrawn in place: what follows each carriage
    return that does not start a new line."""
    return [CSI.sub("", f) for f in re.findall(r"\r(?!\n)([^\r\n]*)", text)]


def screen_lines(text):
    """The lines a terminal is left showing: of each line, what was drawn
    after its last carriage return (every bar frame erases to the end)."""
    return [CSI.sub("", ln.rstrip("\r").split("\r")[-1])
            for ln in text.split("\n")]


def check_width(frames, cols, what):
    """No frame of a bar wider than the terminal: it would wrap, and the
    next carriage return would leave the wrapped part behind. (Plain
    lines, such as the summary, may wrap.)"""
    for vis in frames:
        expect(len(vis) <= cols, "%s: %d columns drawn on a %d-column "
               "terminal: %r" % (what, len(vis), cols, vis))


def check_bar(text, cols, what, prefix="", count_re=r"(\d+)(?:/\d+)? msgs"):
    """A bar redrawn in place; prefix (a string or a tuple of them, as
    str.startswith takes) picks one account's frames."""
    frames = [f for f in bar_frames(text)
              if f.startswith(prefix) and re.search(count_re, f)]
    expect(len(frames) >= 2, "%s: no bar redrawn in place on the terminal: "
           "%r" % (what, text[-800:]))
    expect("\x1b[K" in text, "%s: the bar never erases to the end of the "
           "line" % what)
    expect(any(re.search(r"[\d.]+ [KMG]?B/s", f) for f in frames),
           "%s: the bar shows no rate: %r" % (what, frames[-1]))
    counts = [int(re.search(count_re, f).group(1)) for f in frames]
    expect(counts == sorted(counts) and counts[-1] > counts[0],
           "%s: the message count does not grow: %r" % (what, counts))
    check_width(frames, cols, what)
    return frames


# ---- the shared setup ----

class Env:
    def __init__(self):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        self.base = dict(os.environ)
        for k in ("MAILVAULT_PASSPHRASE_FILE", "MAILVAULT_STORE"):
            self.base.pop(k, None)
        self.base["XDG_RUNTIME_DIR"] = os.path.join(WORK, "run")
        self.base["XDG_STATE_HOME"] = os.path.join(WORK, "state")
        self.base["TERM"] = "xterm"
        self.base["LC_ALL"] = "C"
        self.passfile = os.path.join(WORK, "pass")
        with open(self.passfile, "w") as f:
            f.write(PASS + "\n")
        self.dv = None
        self.maildir = os.path.join(WORK, "gen")
        # two halves made side by side (the generator is the slow part),
        # then one Maildir; file names hold the seed's dates, no clash
        halves = [os.path.join(WORK, "gen%d" % i) for i in (1, 2)]
        procs = [subprocess.Popen([sys.executable, os.path.join(
            TOP, "scripts", "gen-corpus.py"), "maildir", str(NMSG // 2), d,
            "--seed", str(64 + i)]) for i, d in enumerate(halves)]
        expect(all(p.wait() == 0 for p in procs), "gen-corpus failed")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
            for d in halves:
                for fn in os.listdir(os.path.join(d, sub)):
                    os.rename(os.path.join(d, sub, fn),
                              os.path.join(self.maildir, sub, fn))
        for d in halves:
            shutil.rmtree(d)

    def files(self, n):
        """The first n messages' Maildir paths (sub, name)."""
        out = []
        for sub in ("cur", "new"):
            for fn in sorted(os.listdir(os.path.join(self.maildir, sub))):
                out.append((sub, fn))
        return out[:n]

    def small_maildir(self):
        """A Maildir of the first NSMALL messages (hard links)."""
        path = os.path.join(WORK, "small")
        if not os.path.exists(path):
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(path, sub))
            for sub, fn in self.files(NSMALL):
                os.link(os.path.join(self.maildir, sub, fn),
                        os.path.join(path, sub, fn))
        return path

    def mbox(self, n=NMSG):
        """The first n messages as an mboxrd file (its size is known, so
        the import's bar fills)."""
        path = os.path.join(WORK, "gen-%d.mbox" % n)
        if os.path.exists(path):
            return path
        with open(path, "wb") as out:
            for sub, fn in self.files(n):
                with open(os.path.join(self.maildir, sub, fn), "rb") as f:
                    msg = f.read()
                msg = re.sub(rb"(?m)^(>*From )", rb">\1", msg)
                if not msg.endswith(b"\n"):
                    msg += b"\n"
                out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2015\n" +
                          msg + b"\n")
        return path

    def store_env(self, name, with_pass=True):
        e = dict(self.base)
        e["MAILVAULT_STORE"] = os.path.join(WORK, name, "store.db")
        if with_pass:
            e["MAILVAULT_PASSPHRASE_FILE"] = self.passfile
        return e

    def make_store(self, name):
        e = self.store_env(name)
        rc, out, err = run_pipe(["init", "--kdf", "min", "--quiet"], e)
        expect(rc == 0, "init %s: %s%s" % (name, out, err))
        return e

    def dovecot(self):
        if self.dv is not None:
            return self.dv
        self.ca = TestCA(os.path.join(WORK, "ca"))
        cert, key = self.ca.server("localhost")
        self.dv = Dovecot(os.path.join(WORK, "dovecot"),
                          imaps_port=free_port(), password=UPSTREAM_PW,
                          cert=cert, key=key).start()
        # alice and bob get different halves: the store keeps one copy
        # of a message, so a second sync of the same mail would go by
        # too fast for a bar
        files = self.files(2 * NSYNC)
        for user, part in (("alice", files[:NSYNC]), ("bob", files[NSYNC:])):
            inbox = self.dv.maildir(user)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(inbox, sub), exist_ok=True)
            for sub, fn in part:
                # 'T' (trashed) would read as \Deleted: keep it out
                dst = fn.replace("T", "") if ":2," in fn else fn
                shutil.copy(os.path.join(self.maildir, sub, fn),
                            os.path.join(inbox, sub, dst))
            self.dv.chown_tree(inbox)
        return self.dv

    def add_args(self, name, user="alice"):
        return ["account", "add", name, "--imap",
                "127.0.0.1:%d" % self.dv.imaps_port, "--user", user,
                "--ca-file", self.ca.cert]

    def stop(self):
        if self.dv is not None:
            self.dv.stop()

    def logtext(self):
        return self.dv.log() if self.dv is not None else ""


ENV = Env()


# ---- init and the passphrase ----

def test_init_asks_twice_without_echo():
    e = ENV.store_env("s-init", with_pass=False)
    rc, out, p = run_pty(["init", "--kdf", "min"], e,
                         answers=[(rb"New passphrase: ", PASS),
                                  (rb"Again: ", PASS)])
    expect(rc == 0, "init on a terminal failed (%d): %r" % (rc, out))
    expect(PASS not in out, "the passphrase was echoed: %r" % out)
    # each prompt's line is ended once the answer is read
    expect(re.search(r"New passphrase: \r?\n", out) and
           re.search(r"Again: \r?\n", out),
           "a prompt is not followed by a newline: %r" % out)
    expect(os.path.exists(e["MAILVAULT_STORE"]), "no store was made")
    # the store opens with what was typed
    e["MAILVAULT_PASSPHRASE_FILE"] = ENV.passfile
    rc, o2, err = run_pipe(["ls"], e)
    expect(rc == 0, "the new store does not open with the typed "
           "passphrase: %s" % err)


def test_init_refuses_two_different():
    e = ENV.store_env("s-mismatch", with_pass=False)
    p = Pty(["init", "--kdf", "min"], e)
    try:
        p.answer(rb"New passphrase: ", PASS)
        p.answer(rb"Again: ", PASS + "x")
        rc = p.wait()
        out = p.text()
        expect(p.echo_on(), "the terminal no longer echoes after init")
    finally:
        p.close()
    expect(rc != 0, "init accepted two different passphrases")
    expect(re.search(r"mailvault: .*differ", out),
           "no sentence about the mismatch: %r" % out)
    expect(PASS not in out, "the passphrase was echoed: %r" % out)
    expect(not os.path.exists(e["MAILVAULT_STORE"]),
           "a store was made after a mismatch")


def test_init_without_terminal_says_how():
    e = ENV.store_env("s-notty", with_pass=False)
    rc, out, err = run_pipe(["init", "--kdf", "min"], e, timeout=20)
    expect(rc != 0, "init without a terminal or a passphrase succeeded")
    expect("--passphrase-file" in err, "no hint how to give the "
           "passphrase: %r" % err)
    check_plain(out + err, "init on a pipe")


def test_wrong_passphrase_is_a_sentence():
    e = ENV.make_store("s-wrong")
    tty_env = dict(e)
    del tty_env["MAILVAULT_PASSPHRASE_FILE"]
    rc, out, p = run_pty(["ls"], tty_env,
                         answers=[(rb"Passphrase: ", "not-" + PASS)])
    expect(rc != 0, "a wrong passphrase was accepted on the terminal")
    expect(re.search(r"Passphrase: \r?\nmailvault: [A-Za-z][^\r\n]{10,}",
                     out), "no sentence on its own line after a wrong "
           "passphrase: %r" % out)
    expect("not-" + PASS not in out, "the passphrase was echoed: %r" % out)
    bad = os.path.join(WORK, "badpass")
    with open(bad, "w") as f:
        f.write("not-" + PASS + "\n")
    e["MAILVAULT_PASSPHRASE_FILE"] = bad
    rc, out, err = run_pipe(["ls"], e)
    expect(rc != 0, "a wrong passphrase file was accepted")
    expect(re.match(r"mailvault: [A-Za-z].{10,}\n$", err),
           "not one sentence on stderr: %r" % err)
    check_plain(out + err, "wrong passphrase on a pipe")


def test_ctrl_c_at_prompt_restores_echo():
    e = ENV.store_env("s-intr", with_pass=False)
    p = Pty(["init", "--kdf", "min"], e)
    try:
        p.expect(rb"New passphrase: ")
        p.send(b"half-typed\x03")
        rc = p.wait(20)
        expect(rc != 0, "init went on after Ctrl-C")
        expect(p.echo_on(), "Ctrl-C at the prompt left the terminal "
               "without echo")
        expect(b"half-typed" not in p.out, "the typed text was echoed")
    finally:
        p.close()
    expect(not os.path.exists(e["MAILVAULT_STORE"]),
           "a store was made after Ctrl-C")


# ---- import ----

def test_import_bar_on_terminal_plain_on_pipe():
    e = ENV.make_store("s-import")
    mbox = ENV.mbox()
    rc, out, p = run_pty(["import", "tty", mbox], e)
    expect(rc == 0, "import on a terminal failed (%d): %r" % (rc, out[-800:]))
    frames = check_bar(out, 80, "import (80 columns)")
    expect(any(re.search(r"\[#+-+\].*, \d+ s left", f) for f in frames),
           "the bar never shows part done and the time left: %r"
           % frames[len(frames) // 2])
    # the bar's last frame stays, ended by a newline; the summary follows,
    # naming where the messages went (the mailbox named after the file)
    lines = screen_lines(out)
    expect(re.match(r"import \[#+\] %d msgs" % NMSG, lines[-4]) and
           re.match(r"done: %d imported" % NMSG, lines[-3]) and
           re.match(r"  tty/gen-%d: %d imported" % (NMSG, NMSG), lines[-2]),
           "the bar's last frame and the summary are not on lines of their "
           "own: %r" % out[-400:])

    # Each import below gets a store of its own: in one store the
    # messages would be known already (deduplicated) and go by too fast
    # for a bar. A Maildir has no size known beforehand: counts redrawn,
    # no bar.
    e = ENV.make_store("s-import-maildir")
    rc, out, p = run_pty(["import", "narrow", ENV.small_maildir()], e,
                         cols=50)
    expect(rc == 0, "import on a narrow terminal failed: %r" % out[-800:])
    frames = check_bar(out, 50, "import of a Maildir (50 columns)")
    expect(not any("[" in f for f in frames), "a bar that cannot fill: %r"
           % frames[-1])

    e = ENV.make_store("s-import-narrow")
    rc, out, p = run_pty(["import", "narrow", ENV.mbox(NSMALL)], e,
                         cols=50)
    expect(rc == 0, "import on a narrow terminal failed: %r" % out[-800:])
    frames = check_bar(out, 50, "import (50 columns)")
    expect(any("[" in f for f in frames), "no bar on 50 columns: %r"
           % frames[-1])

    e = ENV.make_store("s-import-pipe")
    rc, out, err = run_pipe(["import", "pipe", mbox], e)
    expect(rc == 0, "import on a pipe failed (%d): %s" % (rc, err))
    check_plain(out + err, "import on a pipe")
    expect(re.search(r"^done: %d imported, 0 skipped" % NMSG, out, re.M),
           "no summary on a pipe: %r" % out)


# ---- account add and sync ----

def test_account_add_asks_password_without_echo():
    ENV.dovecot()
    e = ENV.make_store("s-sync")
    prompt = rb"Password for alice at 127\.0\.0\.1:%d: " % ENV.dv.imaps_port
    rc, out, p = run_pty(ENV.add_args("one"), e,
                         answers=[(prompt, UPSTREAM_PW)])
    expect(rc == 0, "account add on a terminal failed (%d): %r" % (rc, out))
    expect(UPSTREAM_PW not in out, "the password was echoed: %r" % out)
    expect(re.search(r"Password for [^\r\n]*: \r?\naccount one added", out),
           "the prompt's line is not ended: %r" % out)
    pw = os.path.join(WORK, "upw")
    with open(pw, "w") as f:
        f.write(UPSTREAM_PW + "\n")
    for name, user in (("two", "bob"), ("three", "alice")):
        rc, o, err = run_pipe(ENV.add_args(name, user) +
                              ["--password-file", pw], e)
        expect(rc == 0, "account add %s: %s" % (name, err))
    rc, o, err = run_pipe(ENV.add_args("four"), e, timeout=20)
    expect(rc != 0 and "--password-file" in err, "account add without a "
           "terminal or a password file: %d %r" % (rc, err))


def test_sync_bar_per_account_on_terminal():
    e = ENV.store_env("s-sync")
    rc, out, p = run_pty(["sync", "one", "two"], e)
    expect(rc == 0, "sync on a terminal failed (%d): %r" % (rc, out[-800:]))
    for name in ("one", "two"):
        # "one: 0 msgs" before the total is known, "one [###" after
        check_bar(out, 80, "sync of %s (80 columns)" % name,
                  (name + " ", name + ":"))
        expect(any(re.match(r"%s: done: %d new" % (name, NSYNC), ln)
                   for ln in screen_lines(out)),
               "no summary line for %s: %r" % (name, out[-800:]))


def test_sync_plain_lines_on_pipe():
    e = ENV.store_env("s-sync")
    rc, out, err = run_pipe(["sync", "three"], e)
    expect(rc == 0, "sync on a pipe failed (%d): %s" % (rc, err))
    check_plain(out + err, "sync on a pipe")
    expect(re.search(r"^three: done: %d new" % NSYNC, out, re.M),
           "no summary on a pipe: %r" % out)
    for line in err.splitlines():
        expect(re.match(r"three: .*\d+/\d+ messages", line),
               "an unexpected line on a pipe: %r" % line)


def serve(e, *extra):
    """`mailvault serve` on the store of e (IMAP on a free port, nothing
    else), logging to a file; (process, log path) once it accepts."""
    port = free_port()
    log = os.path.join(WORK, "serve-%d.log" % port)
    proc = subprocess.Popen(
        [MV, "serve", "--imap-port", str(port), "--imaps-port", "0",
         "--pop3-port", "0", "--pop3s-port", "0", *extra], env=e,
        stdout=open(log, "w"), stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL)
    wait_for(lambda: accepts(port) or proc.poll() is not None, 30,
             "serve to accept")
    expect(proc.poll() is None, "serve did not start: %s" % open(log).read())
    return proc, log


def stop(proc):
    proc.terminate()
    expect(proc.wait(30) == 0, "serve did not stop cleanly")


def test_sync_through_a_daemon_draws_the_same_bar():
    # serve --no-sync syncs only when asked: the run is the one we watch
    e = ENV.make_store("s-daemon")
    pw = os.path.join(WORK, "upw")
    rc, o, err = run_pipe(ENV.add_args("five", "bob") +
                          ["--password-file", pw], e)
    expect(rc == 0, "account add: %s" % err)
    proc, log = serve(e, "--no-sync")
    try:
        rc, out, p = run_pty(["sync", "five"], e)
    finally:
        stop(proc)
    expect(rc == 0, "sync through the daemon failed (%d): %r" % (
        rc, out[-800:]))
    expect(not re.search(r"\d+/\d+ bytes", out) and "progress " not in out,
           "the daemon's raw progress lines are shown: %r" % out[-800:])
    frames = check_bar(out, 80, "sync through a daemon", ("five ", "five:"))
    expect(any("[" in f for f in frames), "no bar once the total is "
           "known: %r" % frames[-1])
    expect(any(re.match(r"five: done: %d new" % NSYNC, ln)
               for ln in screen_lines(out)),
           "no summary line: %r" % out[-600:])


def test_sync_through_a_daemon_on_a_pipe_is_plain():
    e = ENV.store_env("s-daemon")
    run_pipe(["mailbox", "create", "five/Fresh"], e)
    proc, log = serve(e, "--no-sync")
    try:
        rc, out, err = run_pipe(["sync", "five"], e)
    finally:
        stop(proc)
    expect(rc == 0, "sync on a pipe through the daemon failed: %s" % err)
    check_plain(out + err, "sync through a daemon on a pipe")
    expect(re.search(r"^five: done: \d+ new", out, re.M),
           "no summary: %r" % out)
    expect("progress " not in out + err, "raw progress lines: %r"
           % (out + err))


def test_daemon_log_names_what_it_connects_for():
    # the background sync's IDLE connection says which folder it is for
    e = ENV.store_env("s-daemon")
    rc, o, err = run_pipe(["config", "set", "log-level", "debug"], e)
    expect(rc == 0, err)
    proc, log = serve(e)
    try:
        wait_for(lambda: ": INBOX: connected to" in open(log).read(), 60,
                 "the IDLE connection in the log")
    finally:
        stop(proc)
    text = open(log).read()
    expect(re.search(r"sync five: INBOX: connected to 127\.0\.0\.1", text),
           "no 'sync five: INBOX: connected' line: %r" % text[-1500:])
    expect(": ?:" not in text, "a '?' in the log: %r" % text[-1500:])


run_tests(globals(), servers=[ENV])
