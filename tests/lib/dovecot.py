"""A private Dovecot for tests and benchmarks.

Starts Debian's Dovecot (dovecot-imapd, dovecot-pop3d) on loopback with its
own configuration, folders and ports, so nothing of the system's mail setup
is touched. Any user name logs in with the password given (static passdb);
every user's mail is a Maildir under the instance's folder. As root, the
mail is owned by "nobody" (Dovecot refuses to run mail processes as root);
otherwise by the caller.

    with Dovecot("/tmp/x", imap_port=24143) as dv:
        dv.doveadm("import", ...)

Server shapes other than Dovecot's own, for the minimal-server tests:
capabilities (a string) replaces the capability list shown after login
(imap_capability: CONDSTORE, UIDPLUS, MOVE... left out are not offered,
so a client must not use them), and namespace_prefix with separator
makes the personal namespace look like Courier's or Cyrus's ("INBOX."
and "."): INBOX itself, every other folder below it.

With oauth2_key (bytes), logins by XOAUTH2 and OAUTHBEARER are offered
too and checked by Dovecot's oauth2 passdb locally: the token must be a
JWT signed with HS256 under that key (no "kid", no "azp" in it) whose
"sub" and "email" claims are the user name and whose "exp" is to come.
Other mechanisms still take the static password.
"""
import base64
import os
import pwd
import shutil
import socket
import subprocess
import time


def free_port():
    """A loopback TCP port nobody listens on (the tests use it too)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dovecot:
    def __init__(self, root, imap_port=None, imaps_port=0, pop3_port=0,
                 pop3s_port=0, password="x", cert=None, key=None,
                 extra_conf="", oauth2_key=None, capabilities=None,
                 namespace_prefix=None, separator="."):
        self.root = os.path.abspath(root)
        self.imap_port = free_port() if imap_port is None else imap_port
        self.imaps_port = imaps_port
        self.pop3_port = pop3_port
        self.pop3s_port = pop3s_port
        self.password = password
        self.cert, self.key = cert, key
        self.extra_conf = extra_conf
        self.oauth2_key = oauth2_key
        self.capabilities = capabilities
        self.namespace_prefix = namespace_prefix
        self.separator = separator
        self.conf = os.path.join(self.root, "dovecot.conf")
        if os.getuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()

    def maildir(self, user):
        return os.path.join(self.root, "mail", user)

    def _write_conf(self):
        protocols = ["imap"]
        if self.pop3_port or self.pop3s_port:
            protocols.append("pop3")
        mechs, oauth_passdb = self._oauth2_conf()
        ssl = "no"
        ssl_lines = ""
        if self.cert:
            ssl = "yes"
            ssl_lines = "ssl_cert = <%s\nssl_key = <%s\n" % (self.cert, self.key)
        conf = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/log
info_log_path = {root}/log
protocols = {protocols}
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login{mechs}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
default_login_user = dovenull
default_internal_user = dovecot
ssl = {ssl}
{ssl_lines}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
  }}
}}
service anvil {{
  chroot =
}}
{oauth_passdb}passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
protocol pop3 {{
  pop3_uidl_format = %08Xu%08Xv
}}
{extra}
""".format(root=self.root, protocols=" ".join(protocols), uid=self.uid,
           gid=self.gid, ssl=ssl, ssl_lines=ssl_lines, imap=self.imap_port,
           imaps=self.imaps_port or 0, pop3=self.pop3_port or 0,
           pop3s=self.pop3s_port or 0, password=self.password,
           extra=self.extra_conf, mechs=mechs, oauth_passdb=oauth_passdb)
        with open(self.conf, "w") as f:
            f.write(conf + self._shape_conf())

    def _shape_conf(self):
        out = ""
        if self.capabilities is not None:
            out += "protocol imap {\n  imap_capability = %s\n}\n" % (
                self.capabilities)
        if self.namespace_prefix is not None:
            out += ("namespace inbox {\n  inbox = yes\n  prefix = %s\n"
                    "  separator = %s\n}\n" % (self.namespace_prefix,
                                               self.separator))
        return out

    def _oauth2_conf(self):
        """The oauth2 passdb (before the static one) and its keys."""
        if self.oauth2_key is None:
            return "", ""
        # fs:posix dict: key shared/<azp>/<alg>/<kid> is file
        # <prefix><azp>/<alg>/<kid>; without azp and kid, "default"
        kdir = os.path.join(self.root, "oauth2-keys", "default", "HS256")
        os.makedirs(kdir, exist_ok=True)
        with open(os.path.join(kdir, "default"), "w") as f:
            f.write(base64.b64encode(self.oauth2_key).decode())
        for d, _, files in os.walk(os.path.join(self.root, "oauth2-keys")):
            os.chmod(d, 0o755)
            for fn in files:
                os.chmod(os.path.join(d, fn), 0o644)
        ext = os.path.join(self.root, "oauth2.conf.ext")
        with open(ext, "w") as f:
            f.write("introspection_mode = local\n"
                    "local_validation_key_dict = fs:posix:prefix=%s/\n"
                    "username_attribute = email\n"
                    % os.path.join(self.root, "oauth2-keys"))
        os.chmod(ext, 0o644)
        passdb = ("passdb {\n  driver = oauth2\n  mechanisms = xoauth2 "
                  "oauthbearer\n  args = %s\n}\n" % ext)
        return " xoauth2 oauthbearer", passdb

    def _make_reachable(self):
        # Mail processes run as another uid: every folder above ours must
        # let it through (mkdtemp makes 0700 folders).
        d = os.path.dirname(self.root)
        while d not in ("/", ""):
            st = os.stat(d)
            if st.st_uid == os.getuid() and not st.st_mode & 0o001:
                os.chmod(d, st.st_mode | 0o001)
            d = os.path.dirname(d)

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        if self.uid != os.getuid():
            self._make_reachable()
        for d in ("run", "state", "mail", "home"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(self.root, 0o755)
        for d in ("mail", "home"):
            os.chown(os.path.join(self.root, d), self.uid, self.gid)
        self._write_conf()
        subprocess.run(["dovecot", "-c", self.conf], check=True)
        self._wait_port(self.imap_port or self.imaps_port or self.pop3_port)
        return self

    def _wait_port(self, port):
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("Dovecot did not start; its log:\n" + self.log())

    def log(self):
        try:
            return open(os.path.join(self.root, "log")).read()[-4000:]
        except OSError:
            return "(no log)"

    def set_password(self, password):
        """Change the password every user logs in with, as a provider's
        password change does: the running Dovecot reloads its config."""
        self.password = password
        self._write_conf()
        self.doveadm("reload")
        # The reload is asynchronous: wait until a login with the new
        # password works (a bound for a hung server, not a speed check).
        deadline = time.time() + 15
        while time.time() < deadline:
            if self._login_works(password):
                return
            time.sleep(0.05)
        raise RuntimeError("Dovecot did not take the new password:\n" +
                           self.log())

    def _login_works(self, password):
        import imaplib
        import ssl
        try:
            if self.imap_port:
                m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=5)
            else:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                m = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port,
                                      ssl_context=ctx, timeout=5)
            m.login("probe", password)
            m.logout()
            return True
        except (OSError, imaplib.IMAP4.error):
            return False

    def doveadm(self, *args, **kw):
        return subprocess.run(["doveadm", "-c", self.conf, *args],
                              check=True, **kw)

    def stop(self):
        subprocess.run(["doveadm", "-c", self.conf, "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pidfile = os.path.join(self.root, "run", "master.pid")
        deadline = time.time() + 10
        while os.path.exists(pidfile) and time.time() < deadline:
            time.sleep(0.05)

    def chown_tree(self, path):
        for dp, dn, fn in os.walk(path):
            os.chown(dp, self.uid, self.gid)
            for f in fn:
                os.chown(os.path.join(dp, f), self.uid, self.gid)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)
