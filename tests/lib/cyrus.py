"""A private Cyrus IMAP 3.6 for tests, beside Debian's Dovecot.

Debian's cyrus-imapd conflicts with dovecot-imapd, so it is never
installed: on first use the three packages (cyrus-common, cyrus-imapd,
cyrus-pop3d) are fetched with `apt-get download` and unpacked with
`dpkg-deb -x` into build/cyrus/root of the checkout, once (a lock keeps
two test runs from unpacking at the same time). The libraries they link
that Dovecot's machine lacks (libical3, libxapian30) and the SASL tools
(sasl2-bin, libsasl2-modules) are ordinary packages: the Makefile's
TEST_PKGS installs them.

Each instance runs `cyrmaster` from there with its own imapd.conf and
cyrus.conf under its root folder: IMAP and POP3 in plain text on free
loopback ports (the sync reaches them with --tls none), the unpacked
libraries on LD_LIBRARY_PATH, users in a sasldb of its own (realm =
servername), INBOX made at the first login (autocreate_quota). Cyrus
runs as the user named by cyrus_user: "nobody" when the test runs as
root (Cyrus refuses to serve as root, and this needs no new system
user), else the caller; that user owns the config and spool folders.

The two namespace settings are arguments: altnamespace=False (Debian's
default) puts personal folders under "INBOX." and refuses top-level
ones; unixhierarchysep=True makes the separator '/'.

    with Cyrus("/tmp/x", altnamespace=False) as cy:
        m = cy.imap()          # imaplib, logged in as cy.user
"""
import fcntl
import glob
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

from dovecot import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(TOP, "build", "cyrus")
ROOT = os.path.join(CACHE, "root")
PACKAGES = ("cyrus-common", "cyrus-imapd", "cyrus-pop3d")
BINDIR = os.path.join(ROOT, "usr", "lib", "cyrus", "bin")
MASTER = os.path.join(ROOT, "usr", "sbin", "cyrmaster")


def _download(debs):
    cmd = ["apt-get", "download", *PACKAGES]
    p = subprocess.run(cmd, cwd=debs, capture_output=True, text=True)
    if p.returncode != 0 and os.getuid() == 0:
        # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update", "-qq"], check=False,
                       capture_output=True)
        p = subprocess.run(cmd, cwd=debs, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("cannot download Cyrus (%s): %s" % (
            " ".join(cmd), p.stderr.strip()[-500:]))


def unpack():
    """Fetch and unpack Cyrus into build/cyrus/root once; its path."""
    if os.path.exists(MASTER):
        return ROOT
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(MASTER):
            return ROOT
        debs = os.path.join(CACHE, "debs")
        shutil.rmtree(debs, ignore_errors=True)
        os.makedirs(debs)
        os.chmod(debs, 0o777)     # apt's _apt user writes there
        _download(debs)
        tmp = ROOT + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for fn in sorted(os.listdir(debs)):
            if fn.endswith(".deb"):
                subprocess.run(["dpkg-deb", "-x", os.path.join(debs, fn),
                                tmp], check=True)
        shutil.rmtree(ROOT, ignore_errors=True)
        os.rename(tmp, ROOT)
        shutil.rmtree(debs, ignore_errors=True)
    return ROOT


class Cyrus:
    def __init__(self, root, user="alice", password="x", altnamespace=False,
                 unixhierarchysep=False, pop3=False):
        self.root = os.path.abspath(root)
        self.user, self.password = user, password
        self.altnamespace = altnamespace
        self.unixhierarchysep = unixhierarchysep
        self.imap_port = free_port()
        self.pop3_port = free_port() if pop3 else 0
        self.conf = os.path.join(self.root, "imapd.conf")
        self.proc = None
        if os.getuid() == 0:
            self.run_user, self.run_group = "nobody", grp.getgrgid(
                pwd.getpwnam("nobody").pw_gid).gr_name
        else:
            self.run_user = pwd.getpwuid(os.getuid()).pw_name
            self.run_group = grp.getgrgid(os.getgid()).gr_name

    @property
    def sep(self):
        return "/" if self.unixhierarchysep else "."

    @property
    def prefix(self):
        """The personal namespace's prefix, as NAMESPACE says it."""
        return "" if self.altnamespace else "INBOX" + self.sep

    def _write_conf(self):
        yn = {True: "yes", False: "no"}
        with open(self.conf, "w") as f:
            f.write("""\
configdirectory: {root}/conf
partition-default: {root}/spool
servername: localhost
cyrus_user: {user}
cyrus_group: {group}
admins: cyrusadmin
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {root}/sasldb2
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
altnamespace: {alt}
unixhierarchysep: {unix}
autocreate_quota: 0
lmtpsocket: {root}/run/lmtp
idlesocket: {root}/run/idle
notifysocket: {root}/run/notify
master_pid_file: {root}/run/master.pid
""".format(root=self.root, user=self.run_user, group=self.run_group,
           alt=yn[self.altnamespace], unix=yn[self.unixhierarchysep]))
        services = ['  imap cmd="{b}/imapd -C {c}" listen="127.0.0.1:{p}" '
                    'prefork=0'.format(b=BINDIR, c=self.conf,
                                       p=self.imap_port)]
        if self.pop3_port:
            services.append('  pop3 cmd="{b}/pop3d -C {c}" '
                            'listen="127.0.0.1:{p}" prefork=0'.format(
                                b=BINDIR, c=self.conf, p=self.pop3_port))
        with open(os.path.join(self.root, "cyrus.conf"), "w") as f:
            f.write('START {\n  recover cmd="%s/ctl_cyrusdb -C %s -r"\n}\n'
                    'SERVICES {\n%s\n}\nEVENTS {\n}\n' % (
                        BINDIR, self.conf, "\n".join(services)))

    def add_user(self, name, password):
        """A user who logs in with password (its INBOX is made then)."""
        db = os.path.join(self.root, "sasldb2")
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", db, "-u",
                        "localhost", name], input=password + "\n",
                       text=True, check=True)
        if os.getuid() == 0:
            os.chown(db, pwd.getpwnam(self.run_user).pw_uid,
                     grp.getgrnam(self.run_group).gr_gid)

    def _make_reachable(self):
        # Cyrus runs as another uid: every folder above ours must let it
        # through (mkdtemp makes 0700 folders).
        d = os.path.dirname(self.root)
        while d not in ("/", ""):
            st = os.stat(d)
            if st.st_uid == os.getuid() and not st.st_mode & 0o001:
                os.chmod(d, st.st_mode | 0o001)
            d = os.path.dirname(d)

    def start(self):
        unpack()
        os.makedirs(self.root, exist_ok=True)
        for d in ("conf", "spool", "run"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        self._write_conf()
        self.add_user(self.user, self.password)
        if os.getuid() == 0:
            self._make_reachable()
            uid = pwd.getpwnam(self.run_user).pw_uid
            gid = grp.getgrnam(self.run_group).gr_gid
            for dp, dn, fn in os.walk(self.root):
                os.chown(dp, uid, gid)
                for f in fn:
                    os.chown(os.path.join(dp, f), uid, gid)
        os.chmod(self.root, 0o755)
        env = dict(os.environ)
        # usr/lib/<multiarch triplet>, whatever the machine's
        libs = glob.glob(os.path.join(ROOT, "usr", "lib", "*",
                                      "libcyrus.so.0"))
        env["LD_LIBRARY_PATH"] = os.path.dirname(libs[0]) if libs else ""
        self.logfile = open(os.path.join(self.root, "master.log"), "w")
        self.proc = subprocess.Popen(
            [MASTER, "-C", self.conf, "-M",
             os.path.join(self.root, "cyrus.conf"), "-p",
             os.path.join(self.root, "run", "master.pid"), "-D"],
            env=env, stdin=subprocess.DEVNULL, stdout=self.logfile,
            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_port(self.imap_port)
        return self

    def _wait_port(self, port):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                m = imaplib.IMAP4("127.0.0.1", port)
                welcome = m.welcome
                m.logout()
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.05)
                continue
            # free_port() can race another program for the port
            if b"Cyrus" not in welcome:
                raise RuntimeError("port %d answers, but not as Cyrus: %r"
                                   % (port, welcome))
            return
        raise RuntimeError("Cyrus did not start; its output:\n" +
                           self.logtext())

    def logtext(self):
        try:
            return open(os.path.join(self.root, "master.log")).read()
        except OSError:
            return "(no log)"

    def imap(self, user=None, password=None):
        """An imaplib connection logged in as user (the first user by
        default)."""
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.login(user or self.user, password or self.password)
        return m

    def name(self, local):
        """The server's name of a local folder name ('/'-separated)."""
        if local == "INBOX":
            return local
        return self.prefix + local.replace("/", self.sep)

    def local_name(self, remote):
        """The local name of a server folder, None outside the personal
        namespace."""
        if remote == "INBOX":
            return remote
        if not remote.startswith(self.prefix):
            return None
        return remote[len(self.prefix):].replace(self.sep, "/")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        self.logfile.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
