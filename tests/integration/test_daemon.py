"""`mailvault daemon start|stop|status`, `mailvault status` and the control
socket: the daemon detaches and serves (an imaplib login works), a second
daemon on the store is refused, a busy port or a wrong passphrase is
reported by `daemon start` itself, status shows ports and folders (text
and JSON), SIGHUP reopens the log, the control socket answers its owner
only (SO_PEERCRED, checked with the folder's mode opened up), and stop
says BYE to clients and leaves no process, pid file or socket behind.
Two stores have two daemons side by side, each with its own control
socket (in one $XDG_RUNTIME_DIR, and in /tmp/mailvault-UID without it),
and each status answers about its own store."""
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import TESTDIR, Store, alive, free_port      # noqa: E402
from runner import expect, run_tests, skip, stop_at_end  # noqa: E402
from upstream import Env                                 # noqa: E402

MSG = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n"
       b"Message-ID: <d1@example.org>\r\n\r\nbody\r\n")
UP_MSG = (b"From: u@example.org\r\nSubject: up %d\r\n"
          b"Message-ID: <up%d@example.org>\r\n\r\nbody\r\n")


class DaemonStore(Store):
    """A store whose daemon serves plain IMAP on a port of its own, the
    other ports off; HOME is its folder too."""

    def __init__(self, name):
        Store.__init__(self, name,
                       env={"HOME": os.path.join(TESTDIR, name)})
        self.port = free_port()
        for k in ("imaps-port", "pop3-port", "pop3s-port"):
            self.mv("config", "set", k, "0")
        self.mv("config", "set", "imap-port", str(self.port))


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


def kill_daemon():
    if "pid" in state and alive(state["pid"]):
        os.kill(state["pid"], signal.SIGTERM)


st = DaemonStore("a")
state = {}
stop_at_end(kill_daemon)
eml = os.path.join(st.dir, "m.eml")
with open(eml, "wb") as f:
    f.write(MSG)
st.mv("import", "local", eml, "--format", "eml", "--quiet")


def test_daemon_start_detaches_and_serves():
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


def test_daemon_status_says_running_with_pid():
    p = st.mv("daemon", "status")
    expect(p.stdout.startswith("running, pid %d" % state["pid"]),
           p.stdout)
    j = json.loads(st.mv("--json", "daemon", "status").stdout)
    expect(j["running"] is True and j["pid"] == state["pid"], j)
    expect(j["since"].endswith("Z"), j)


def test_status_shows_ports_accounts_folders():
    p = st.mv("status")
    expect("daemon: running, pid %d" % state["pid"] in p.stdout,
           p.stdout)
    expect("IMAP 127.0.0.1:%d" % st.port in p.stdout, p.stdout)
    expect("account local" in p.stdout, p.stdout)
    expect("INBOX: 1 messages, 1 unread" in p.stdout, p.stdout)


def test_status_json():
    j = json.loads(st.mv("--json", "status").stdout)
    expect(j["state"] == "running" and j["pid"] == state["pid"], j)
    expect(j["ports"] == {"imap": st.port, "imaps": 0, "pop3": 0,
                          "pop3s": 0}, j)
    acct = [a for a in j["accounts"] if a["name"] == "local"][0]
    expect(acct["upstream"] is None, acct)
    inbox = [f for f in acct["folders"] if f["name"] == "INBOX"][0]
    expect(inbox["messages"] == 1 and inbox["unread"] == 1, inbox)
    expect(acct["bytes"] == len(MSG), acct)


def test_imaplib_login_against_the_daemon():
    pw = json.loads(st.mv("--json", "credentials").stdout)["password"]
    m = imaplib.IMAP4("127.0.0.1", st.port)
    m.login("local", pw)
    typ, data = m.select("INBOX")
    expect(typ == "OK" and int(data[0]) == 1, data)
    state["imap"] = m     # kept open: stop must say BYE to it


def test_second_daemon_on_the_store_is_refused():
    p = st.mv("daemon", "start", check=False)
    expect(p.returncode != 0, "a second daemon started")
    expect("already runs on the store" in p.stderr and
           "pid %d" % state["pid"] in p.stderr, p.stderr)
    expect(alive(state["pid"]), "the first daemon died")


def test_busy_port_is_reported_by_start():
    other = DaemonStore("b")
    p = other.mv("daemon", "start", "--imap-port", str(st.port),
                 check=False)
    expect(p.returncode != 0, "started on a busy port")
    expect("in use" in p.stderr and "did not start" in p.stderr,
           p.stderr)
    q = other.mv("daemon", "status", check=False)
    expect(q.returncode == 3 and "not running" in q.stdout, q.stdout)


def test_wrong_passphrase_is_reported_by_start():
    other = DaemonStore("c")
    bad = os.path.join(other.dir, "bad")
    with open(bad, "w") as f:
        f.write("wrong\n")
    p = other.mv("--passphrase-file", bad, "daemon", "start",
                 check=False)
    expect(p.returncode != 0, "started with a wrong passphrase")
    expect("passphrase" in p.stderr.lower(), p.stderr)
    expect(not os.path.exists(other.ctl), "a socket was left behind")


def test_control_socket_protocol():
    out = st.ask(b"STATUS JSON\n")
    lines = out.splitlines()
    expect(lines[-1] == "OK", out)
    expect(json.loads(lines[0][2:])["state"] == "running", out)
    expect(st.ask(b"FROB\n").startswith("ERR "), "unknown command")
    expect(st.ask(b"X" * 1000 + b"\n").startswith("ERR "),
           "a long line was taken")
    out = st.ask(b"SYNC nosuch\n")
    expect(out.startswith("ERR there is no account named nosuch"), out)


def test_control_socket_refuses_another_uid():
    if os.getuid() != 0:
        skip("connecting as another user needs root")
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
    # The line goes through the logger thread: the answer can reach us
    # before the line reaches the file.
    want = "refused a connection from uid %d" % uid
    deadline = time.time() + 10
    while time.time() < deadline and want not in open(st.log).read():
        time.sleep(0.05)
    expect(want in open(st.log).read(), "the refusal is not logged")


def test_sighup_reopens_the_log():
    os.rename(st.log, st.log + ".1")
    os.kill(state["pid"], signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and not os.path.exists(st.log):
        time.sleep(0.05)
    expect(os.path.exists(st.log), "no new log after SIGHUP")
    time.sleep(0.1)
    expect("log file reopened" in open(st.log).read(), "nothing logged")


def test_stop_says_bye_and_leaves_nothing():
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


def test_stop_when_not_running_is_an_error():
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


def test_stop_over_the_control_socket():
    st.mv("daemon", "start")
    pid = int(open(st.pidfile).read().split()[0])
    expect(st.ask(b"STOP\n").startswith("OK"), "STOP refused")
    deadline = time.time() + 10
    while time.time() < deadline and alive(pid):
        time.sleep(0.05)
    expect(not alive(pid), "STOP did not stop it")
    expect(not os.path.exists(st.ctl), "the socket is left behind")


# ---- with a Dovecot upstream ----

UP = {}


def upstream():
    """The Dovecot upstream (one message in its INBOX) and a store with
    the account "acc" syncing from it, made on first use."""
    if not UP:
        env = stop_at_end(Env("up"))
        stop_at_end(lambda: env.mv("daemon", "stop", check=False))
        env.mv("config", "set", "imap-port", str(free_port()))
        env.add_imap()
        up = env.remote()
        up.append("INBOX", None, None, UP_MSG % (1, 1))
        UP["env"], UP["up"] = env, up
    return UP["env"], UP["up"]


def inbox(env):
    j = json.loads(env.mv("--json", "status").stdout)
    acct = j["accounts"][0]
    return acct, [f for f in acct["folders"] if f["name"] == "INBOX"][0]


def test_status_shows_upstream_and_last_sync():
    """A daemon with a Dovecot upstream: status shows the upstream and
    the last sync, and SYNC over the control socket pulls new mail."""
    env, up = upstream()
    env.mv("daemon", "start")
    deadline = time.time() + 20
    while time.time() < deadline:
        acct, box = inbox(env)
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


def test_sync_over_the_control_socket():
    env, up = upstream()
    up.append("INBOX", None, None, UP_MSG % (2, 2))
    out = env.ask(b"SYNC acc\n", timeout=60)
    # Progress lines first ("* acc: INBOX ..."), then the result.
    expect("* acc: done" in out and out.splitlines()[-1] == "OK", out)
    expect(inbox(env)[1]["messages"] == 2, "the new mail is not there")


def test_cli_sync_while_the_daemon_runs():
    env, up = upstream()
    # Through the daemon where cmd_sync asks it (cli_ctl_sync), else
    # beside it (the engine's per-account lock): the mail arrives.
    up.append("INBOX", None, None, UP_MSG % (3, 3))
    p = env.mv("sync", "acc")
    print("    mailvault sync said: %s" % p.stdout.strip())
    expect("acc: done" in p.stdout, p.stdout + p.stderr)
    expect(inbox(env)[1]["messages"] == 3, "the new mail is not there")
    p = env.mv("sync", "nosuch", check=False)
    expect(p.returncode != 0 and "no account named nosuch" in p.stderr,
           p.stderr)



# ---- one daemon per store ----

def two_daemons(runtime):
    """Two stores whose daemons share the runtime folder (None: no
    XDG_RUNTIME_DIR at all, so /tmp/mailvault-UID): both start, each
    status answers about its own store, locking one leaves the other."""
    tag = "shared" if runtime else "tmp"
    pair = [DaemonStore("%s-%d" % (tag, i)) for i in (1, 2)]
    for s in pair:
        if runtime:
            s.env["XDG_RUNTIME_DIR"] = runtime
        else:
            del s.env["XDG_RUNTIME_DIR"]
        stop_at_end(lambda s=s: s.mv("daemon", "stop", check=False))
        s.mv("daemon", "start")
    try:
        socks = [s.ctl for s in pair]
        expect(socks[0] != socks[1], "one socket for two stores: %s" %
               socks)
        expect(os.path.dirname(socks[0]) == os.path.dirname(socks[1]),
               socks)
        if not runtime:
            expect(socks[0].startswith("/tmp/mailvault-%d/ctl-" %
                                       os.geteuid()), socks[0])
        for s in pair:
            j = json.loads(s.mv("--json", "status").stdout)
            expect(j["store"] == os.path.realpath(s.path) and
                   j["ports"]["imap"] == s.port, j)
            expect("store: %s" % os.path.realpath(s.path) in
                   s.mv("status").stdout, "text status")
        pair[0].mv("lock")
        expect(json.loads(pair[0].mv("--json", "status").stdout)["locked"],
               "the first did not lock")
        expect(not json.loads(pair[1].mv("--json", "status").stdout)[
            "locked"], "locking the first locked the second")
        p = pair[1].mv("config", "set", "poll-interval", "60")
        expect("running daemon took it" in p.stdout, p.stdout)
    finally:
        for s in pair:
            s.mv("daemon", "stop")
    for s, sock in zip(pair, socks):
        expect(not os.path.exists(sock), "a socket was left: " + sock)


def test_two_stores_two_daemons_in_one_runtime_folder():
    run = os.path.join(TESTDIR, "shared-run")
    os.makedirs(run, mode=0o700, exist_ok=True)
    two_daemons(run)


def test_two_stores_two_daemons_without_xdg_runtime_dir():
    two_daemons(None)


run_tests(globals())
