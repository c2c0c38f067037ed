"""`mailvault daemon start|stop|status`, `mailvault status` and the control
socket: the daemon detaches and serves (an imaplib login works), a second
daemon on the store is refused, a busy port or a wrong passphrase is
reported by `daemon start` itself, status shows ports and folders (text
and JSON), SIGHUP reopens the log, the control socket answers its owner
only (SO_PEERCRED, checked with the folder's mode opened up), and stop
says BYE to clients and leaves no process, pid file or socket behind."""
import imaplib
import json
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time

MV = os.environ["MAILVAULT"]
TESTDIR = os.environ.get("TESTDIR") or os.getcwd()
MSG = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n"
       b"Message-ID: <d1@example.org>\r\n\r\nbody\r\n")


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, fn):
        t = time.time()
        try:
            fn()
            self.passed += 1
            print("ok   %s (%.1f s)" % (name, time.time() - t), flush=True)
        except Exception as e:     # noqa: BLE001 - report and go on
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e),
                  flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; the daemon is not our child.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Store:
    def __init__(self, name):
        self.dir = os.path.join(TESTDIR, name)
        os.makedirs(self.dir, exist_ok=True)
        self.env = dict(os.environ)
        self.env["HOME"] = self.dir
        self.env["MAILVAULT_STORE"] = os.path.join(self.dir, "store.db")
        self.env["XDG_RUNTIME_DIR"] = os.path.join(self.dir, "run")
        self.env["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        self.passfile = os.path.join(self.dir, "pass")
        self.env["MAILVAULT_PASSPHRASE_FILE"] = self.passfile
        with open(self.passfile, "w") as f:
            f.write("correct horse battery staple\n")
        self.port = free_port()
        self.mv("init", "--kdf", "min", "--quiet")
        for k in ("imaps-port", "pop3-port", "pop3s-port"):
            self.mv("config", "set", k, "0")
        self.mv("config", "set", "imap-port", str(self.port))
        self.ctl_dir = os.path.join(self.env["XDG_RUNTIME_DIR"], "mailvault")
        self.ctl = os.path.join(self.ctl_dir, "ctl")
        self.log = os.path.join(self.env["XDG_STATE_HOME"], "mailvault",
                                "mailvault.log")
        self.pidfile = os.path.join(self.env["XDG_STATE_HOME"], "mailvault",
                                    "mailvault.pid")

    def mv(self, *args, check=True, timeout=60):
        p = subprocess.run([MV, *args], env=self.env, capture_output=True,
                           text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError("mailvault %s failed (%d): %s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def ask(self, line):
        """One command over the control socket, as its owner."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
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


def other_uid():
    """A throwaway user's uid (made if missing), else nobody's."""
    try:
        return pwd.getpwnam("mvtest").pw_uid
    except KeyError:
        pass
    subprocess.run(["useradd", "--no-create-home", "--shell",
                    "/usr/sbin/nologin", "mvtest"], capture_output=True)
    try:
        return pwd.getpwnam("mvtest").pw_uid
    except KeyError:
        return 65534


def connect_as(uid, path):
    """Connect to path as uid in a forked child: what it saw."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            s.sendall(b"STATUS\n")
            out = b"connected: " + s.recv(4096)
        except OSError as e:
            out = ("error: %s" % e.__class__.__name__).encode()
        os.write(w, out)
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return out.decode()


def main():
    r = Results()
    st = Store("a")
    eml = os.path.join(st.dir, "m.eml")
    with open(eml, "wb") as f:
        f.write(MSG)
    st.mv("import", "local", eml, "--format", "eml", "--quiet")
    state = {}

    def start():
        t = time.time()
        p = st.mv("daemon", "start")
        expect("daemon started" in p.stdout, "no start line: %r" % p.stdout)
        pid = int(open(st.pidfile).read().split()[0])
        state["pid"] = pid
        expect(alive(pid), "the daemon is not running")
        expect(time.time() - t < 10, "start took too long")
        expect(stat.S_IMODE(os.stat(st.ctl_dir).st_mode) == 0o700,
               "the socket folder is not 0700")
        expect(stat.S_IMODE(os.stat(st.ctl).st_mode) == 0o600,
               "the socket is not 0600")
        expect(os.path.exists(st.log), "no log file")
        # Detached: another session, no terminal, cwd /.
        expect(os.getsid(pid) != os.getsid(0), "still in our session")
        with open("/proc/%d/stat" % pid) as f:
            tty = int(f.read().split(")")[-1].split()[4])
        expect(tty == 0, "it has a controlling terminal")
        expect(os.readlink("/proc/%d/cwd" % pid) == "/", "cwd is not /")

    def daemon_status():
        p = st.mv("daemon", "status")
        expect(p.stdout.startswith("running, pid %d" % state["pid"]),
               p.stdout)
        j = json.loads(st.mv("--json", "daemon", "status").stdout)
        expect(j["running"] is True and j["pid"] == state["pid"], j)
        expect(j["since"].endswith("Z"), j)

    def status_text():
        p = st.mv("status")
        expect("daemon: running, pid %d" % state["pid"] in p.stdout,
               p.stdout)
        expect("IMAP 127.0.0.1:%d" % st.port in p.stdout, p.stdout)
        expect("account local" in p.stdout, p.stdout)
        expect("INBOX: 1 messages, 1 unread" in p.stdout, p.stdout)

    def status_json():
        j = json.loads(st.mv("--json", "status").stdout)
        expect(j["state"] == "running" and j["pid"] == state["pid"], j)
        expect(j["ports"] == {"imap": st.port, "imaps": 0, "pop3": 0,
                              "pop3s": 0}, j)
        acct = [a for a in j["accounts"] if a["name"] == "local"][0]
        expect(acct["upstream"] is None, acct)
        inbox = [f for f in acct["folders"] if f["name"] == "INBOX"][0]
        expect(inbox["messages"] == 1 and inbox["unread"] == 1, inbox)
        expect(acct["bytes"] == len(MSG), acct)

    def imap_login():
        pw = json.loads(st.mv("--json", "credentials").stdout)["password"]
        m = imaplib.IMAP4("127.0.0.1", st.port)
        m.login("local", pw)
        typ, data = m.select("INBOX")
        expect(typ == "OK" and int(data[0]) == 1, data)
        state["imap"] = m     # kept open: stop must say BYE to it

    def second_start_refused():
        p = st.mv("daemon", "start", check=False)
        expect(p.returncode != 0, "a second daemon started")
        expect("already runs on the store" in p.stderr and
               "pid %d" % state["pid"] in p.stderr, p.stderr)
        expect(alive(state["pid"]), "the first daemon died")

    def busy_port_reported():
        other = Store("b")
        p = other.mv("daemon", "start", "--imap-port", str(st.port),
                     check=False)
        expect(p.returncode != 0, "started on a busy port")
        expect("in use" in p.stderr and "did not start" in p.stderr,
               p.stderr)
        q = other.mv("daemon", "status", check=False)
        expect(q.returncode == 3 and "not running" in q.stdout, q.stdout)

    def wrong_passphrase_reported():
        other = Store("c")
        bad = os.path.join(other.dir, "bad")
        with open(bad, "w") as f:
            f.write("wrong\n")
        p = other.mv("--passphrase-file", bad, "daemon", "start",
                     check=False)
        expect(p.returncode != 0, "started with a wrong passphrase")
        expect("passphrase" in p.stderr.lower(), p.stderr)
        expect(not os.path.exists(other.ctl), "a socket was left behind")

    def socket_protocol():
        out = st.ask(b"STATUS JSON\n")
        lines = out.splitlines()
        expect(lines[-1] == "OK", out)
        expect(json.loads(lines[0][2:])["state"] == "running", out)
        expect(st.ask(b"FROB\n").startswith("ERR "), "unknown command")
        expect(st.ask(b"X" * 1000 + b"\n").startswith("ERR "),
               "a long line was taken")
        out = st.ask(b"SYNC nosuch\n")
        expect(out.startswith("ERR there is no account named nosuch"), out)

    def socket_refuses_other_uid():
        uid = other_uid()
        out = connect_as(uid, st.ctl)
        expect(out.startswith("error: PermissionError"),
               "uid %d got through the 0700 folder: %s" % (uid, out))
        # Open the modes up (the socket, its folder and the folders
        # above it): SO_PEERCRED must still refuse.
        opened = []
        d = st.ctl_dir
        while d.startswith(TESTDIR) and d != "/":
            opened.append((d, stat.S_IMODE(os.stat(d).st_mode)))
            d = os.path.dirname(d)
        opened.append((st.ctl, 0o600))
        try:
            for path, mode in opened:
                os.chmod(path, mode | 0o055 if path != st.ctl else 0o666)
            out = connect_as(uid, st.ctl)
        finally:
            for path, mode in opened:
                os.chmod(path, mode)
        expect(out.startswith("connected: ERR permission denied"),
               "uid %d was answered: %s" % (uid, out))
        # The line goes through the logger thread: the answer can reach
        # us before the line reaches the file.
        want = "refused a connection from uid %d" % uid
        deadline = time.time() + 10
        while time.time() < deadline and want not in open(st.log).read():
            time.sleep(0.05)
        expect(want in open(st.log).read(), "the refusal is not logged")

    def sighup_reopens_log():
        os.rename(st.log, st.log + ".1")
        os.kill(state["pid"], signal.SIGHUP)
        deadline = time.time() + 5
        while time.time() < deadline and not os.path.exists(st.log):
            time.sleep(0.05)
        expect(os.path.exists(st.log), "no new log after SIGHUP")
        time.sleep(0.1)
        expect("log file reopened" in open(st.log).read(), "nothing logged")

    def stop():
        p = st.mv("daemon", "stop")
        expect("stopped" in p.stdout, p.stdout)
        expect(not alive(state["pid"]), "the daemon still runs")
        expect(not os.path.exists(st.ctl), "the socket is left behind")
        expect(not os.path.exists(st.pidfile), "the pid file is left")
        m = state["imap"]
        m.sock.settimeout(5)
        line = m.readline()
        expect(line.startswith(b"* BYE"), "no BYE: %r" % line)
        expect("daemon stopped" in open(st.log).read(), "not in the log")

    def stop_when_not_running():
        p = st.mv("daemon", "stop", check=False)
        expect(p.returncode != 0, "stop without a daemon succeeded")
        expect("the daemon is not running" in p.stderr, p.stderr)
        p = st.mv("daemon", "status", check=False)
        expect(p.returncode == 3 and p.stdout.startswith("not running"),
               p.stdout)
        p = st.mv("status")
        expect("daemon: not running" in p.stdout, p.stdout)
        j = json.loads(st.mv("--json", "status").stdout)
        expect(j["state"] == "not running", j)
        expect(any(a["name"] == "local" for a in j["accounts"]), j)

    def restart_and_stop_over_socket():
        st.mv("daemon", "start")
        pid = int(open(st.pidfile).read().split()[0])
        expect(st.ask(b"STOP\n").startswith("OK"), "STOP refused")
        deadline = time.time() + 10
        while time.time() < deadline and alive(pid):
            time.sleep(0.05)
        expect(not alive(pid), "STOP did not stop it")
        expect(not os.path.exists(st.ctl), "the socket is left behind")

    r.check("daemon_start_detaches_and_serves", start)
    r.check("daemon_status_says_running_with_pid", daemon_status)
    r.check("status_shows_ports_accounts_folders", status_text)
    r.check("status_json", status_json)
    r.check("imaplib_login_against_the_daemon", imap_login)
    r.check("second_daemon_on_the_store_is_refused", second_start_refused)
    r.check("busy_port_is_reported_by_start", busy_port_reported)
    r.check("wrong_passphrase_is_reported_by_start",
            wrong_passphrase_reported)
    r.check("control_socket_protocol", socket_protocol)
    r.check("control_socket_refuses_another_uid", socket_refuses_other_uid)
    r.check("sighup_reopens_the_log", sighup_reopens_log)
    r.check("stop_says_bye_and_leaves_nothing", stop)
    r.check("stop_when_not_running_is_an_error", stop_when_not_running)
    r.check("stop_over_the_control_socket", restart_and_stop_over_socket)
    if "pid" in state and alive(state["pid"]):
        os.kill(state["pid"], signal.SIGTERM)
    with_upstream(r)
    r.finish()


def with_upstream(r):
    """A daemon with a Dovecot upstream: status shows the upstream and
    the last sync, and SYNC over the control socket pulls new mail."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_sync_imap import Env      # noqa: E402 - starts Dovecot
    env = Env("up")
    env.env["XDG_RUNTIME_DIR"] = os.path.join(env.dir, "run")
    env.env["XDG_STATE_HOME"] = os.path.join(env.dir, "state")
    port = free_port()
    env.mv("config", "set", "imap-port", str(port))
    env.add_imap()
    up = env.remote()
    msg = (b"From: u@example.org\r\nSubject: up %d\r\n"
           b"Message-ID: <up%d@example.org>\r\n\r\nbody\r\n")
    up.append("INBOX", None, None, msg % (1, 1))
    ctl = os.path.join(env.env["XDG_RUNTIME_DIR"], "mailvault", "ctl")

    def inbox():
        j = json.loads(env.mv("--json", "status").stdout)
        acct = j["accounts"][0]
        return acct, [f for f in acct["folders"]
                      if f["name"] == "INBOX"][0]

    def background_sync_shows_in_status():
        env.mv("daemon", "start")
        deadline = time.time() + 20
        while time.time() < deadline:
            acct, box = inbox()
            if acct["last_sync"] is not None and box["messages"] == 1:
                break
            time.sleep(0.2)
        expect(acct["upstream"] == "imap://127.0.0.1:%d" %
               env.dv.imaps_port, acct)
        expect(acct["last_sync"] is not None and acct["last_error"] == "",
               acct)
        expect(box["messages"] == 1, box)
        out = env.mv("status").stdout
        expect("upstream: imap://127.0.0.1:" in out and ", ok" in out, out)

    def sync_over_the_socket():
        up.append("INBOX", None, None, msg % (2, 2))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(ctl)
        s.sendall(b"SYNC acc\n")
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        s.close()
        out = out.decode()
        # Progress lines first ("* acc: INBOX ..."), then the result.
        expect("* acc: done" in out and out.splitlines()[-1] == "OK", out)
        expect(inbox()[1]["messages"] == 2, "the new mail is not there")

    def cli_sync_while_the_daemon_runs():
        # Through the daemon where cmd_sync asks it (cli_ctl_sync), else
        # beside it (the engine's per-account lock): the mail arrives.
        up.append("INBOX", None, None, msg % (3, 3))
        p = env.mv("sync", "acc")
        print("    mailvault sync said: %s" % p.stdout.strip())
        expect("acc: done" in p.stdout, p.stdout + p.stderr)
        expect(inbox()[1]["messages"] == 3, "the new mail is not there")
        p = env.mv("sync", "nosuch", check=False)
        expect(p.returncode != 0 and "no account named nosuch" in p.stderr,
               p.stderr)

    try:
        r.check("status_shows_upstream_and_last_sync",
                background_sync_shows_in_status)
        r.check("sync_over_the_control_socket", sync_over_the_socket)
        r.check("cli_sync_while_the_daemon_runs",
                cli_sync_while_the_daemon_runs)
    finally:
        env.mv("daemon", "stop", check=False)
        env.stop()


if __name__ == "__main__":
    main()
