"""`mailvault serve` syncs in the background: mail already upstream is
there after the first sync, new mail delivered upstream reaches a local
IDLE client without any CLI call (the upstream IDLE wakes the sync), and a
`mailvault sync` run beside it takes turns with it (per-account lock)
without pulling anything twice."""
import imaplib
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sync_imap import MV, Env, Results, expect, free_port  # noqa: E402

MSG = (b"From: Upstream Sender <up@example.org>\r\nTo: bob@example.org\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody %s\r\n")


def wait_for(cond, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def main():
    r = Results()
    env = Env("serve")
    env.add_imap()
    up = env.remote()
    up.append("INBOX", None, None, MSG % (b"first", b"m1", b"one"))
    port = free_port()
    log = open(os.path.join(env.dir, "serve.log"), "w+")
    proc = subprocess.Popen(
        [MV, "serve", "--imap-port", str(port), "--imaps-port", "0",
         "--pop3-port", "0", "--pop3s-port", "0"], env=env.env,
        stdout=log, stderr=subprocess.STDOUT)
    pw = json.loads(env.mv("--json", "credentials").stdout)["password"]
    local = {}

    def connect():
        try:
            m = imaplib.IMAP4("127.0.0.1", port)
        except OSError:
            return False
        m.login("acc", pw)
        local["m"] = m
        return True

    def count():
        typ, data = local["m"].select("INBOX")
        return int(data[0]) if typ == "OK" else -1

    def initial_sync():
        wait_for(connect, 20, "the server to start")
        wait_for(lambda: count() == 1, 30, "the first sync")

    def idle_wakeup():
        m = local["m"]
        m.select("INBOX")
        tag = m._new_tag().decode()
        m.send(("%s IDLE\r\n" % tag).encode())
        expect(m.readline().startswith(b"+"), "IDLE not accepted")
        up.append("INBOX", None, None, MSG % (b"second", b"m2", b"two"))
        start = time.time()
        m.sock.settimeout(60)
        line = m.readline()
        waited = time.time() - start
        m.send(b"DONE\r\n")
        while not m.readline().startswith(tag.encode()):
            pass
        expect(b"EXISTS" in line, "no EXISTS in IDLE: %r" % line)
        print("new upstream mail reached the IDLE client in %.1f s" % waited)

    def cli_sync_beside_serve():
        # Both may sync the account; one waits for the other, and
        # nothing is pulled twice.
        for _ in range(3):
            env.sync("acc")
        expect(count() == 2, "INBOX has %d messages, want 2" % count())

    r.check("initial_sync", initial_sync)
    r.check("idle_wakeup", idle_wakeup)
    r.check("cli_sync_beside_serve", cli_sync_beside_serve)
    try:
        local["m"].logout()
    except Exception:  # noqa: BLE001 - the server may be gone already
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
        r.check("clean_stop", lambda: expect(proc.returncode == 0,
                                             "serve exited %s" % proc.returncode))
    except subprocess.TimeoutExpired:
        proc.kill()
        r.check("clean_stop", lambda: expect(False, "serve did not stop"))
    log.seek(0)
    text = log.read()
    r.check("log_mentions_sync", lambda: expect(
        "syncing acc" in text, "no sync line in the log:\n" + text[-2000:]))
    env.stop()
    r.finish()


if __name__ == "__main__":
    main()
