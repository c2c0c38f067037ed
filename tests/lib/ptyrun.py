"""Running mailvault on a pseudo-terminal, as a person does.

Pty(args, env, cols) starts the command with a new pseudo-terminal as its
controlling terminal (stdin, stdout and stderr on it, cols x rows set
before it starts); expect() waits for a pattern on the screen, answer()
types at a prompt (and checks echo is off by then), wait() reads until
the command exits. run_pty() does all of it for a command and its
prompts. The waits are bounds for a hung program, not speed requirements.
"""
import errno
import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time

from mvtest import MV
from runner import expect


class Pty:
    """A command on a pseudo-terminal that is its controlling terminal."""

    def __init__(self, args, env, cols=80, rows=24):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            [MV, *args], env=env, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True, close_fds=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.out = b""
        self.eof = False

    def _pump(self, timeout):
        if self.eof:
            time.sleep(min(timeout, 0.05))
            return
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if data:
            self.out += data
        else:
            self.eof = True     # every slave descriptor closed

    def expect(self, pattern, timeout=20):
        """Wait until pattern (a bytes regex) shows; the match."""
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, self.out)
            if m:
                return m
            if self.eof or time.time() > deadline:
                raise AssertionError("%r never showed on the terminal; it "
                                     "shows:\n%r" % (pattern,
                                                     self.out[-1500:]))
            self._pump(0.1)

    def echo_on(self):
        # On Linux the master reports the slave's modes.
        return bool(termios.tcgetattr(self.master)[3] & termios.ECHO)

    def answer(self, prompt, text):
        """Type text and Enter as soon as the prompt shows: echo must be
        off by then already (else a quick typist's answer is echoed, or
        thrown away when echo goes off with TCSAFLUSH)."""
        self.expect(prompt)
        expect(not self.echo_on(), "the terminal still echoes when the "
               "prompt %r shows" % prompt)
        os.write(self.master, text.encode() + b"\r")

    def send(self, data):
        os.write(self.master, data)

    def wait(self, timeout=60):
        """Read everything until the command exits; its exit status. (The
        master reads EIO once no one holds the terminal open any more.)"""
        deadline = time.time() + timeout
        while not self.eof:
            if time.time() > deadline:
                self.proc.kill()
                raise AssertionError("the command did not finish; it "
                                     "shows:\n%r" % self.out[-1500:])
            self._pump(0.1)
        return self.proc.wait(10)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def text(self):
        return self.out.decode("utf-8", "replace")


def run_pty(args, env, answers=(), cols=80, timeout=120):
    """Run on a terminal, answering (prompt, text) pairs in order."""
    p = Pty(args, env, cols=cols)
    try:
        for prompt, text in answers:
            p.answer(prompt, text)
        rc = p.wait(timeout)
        return rc, p.text(), p
    finally:
        p.close()
