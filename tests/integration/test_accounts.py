"""Accounts that change (issue 16, item 1), against a real private Dovecot
upstream (tests/lib/dovecot.py, IMAPS with a test CA): `account add`
tries the connection and the login before it saves, and says which step
failed (login refused, TLS certificate with its fingerprint, connection
refused, host not found) and that nothing was saved; --no-check saves
without trying. When the upstream password changes, sync fails with
words that name the fix, `account set NAME password --password-file F`
gives the new one and sync works again; the password is never taken
from the command line. `account set` changes host, port, tls and pin
(and refuses tls none to another machine); `account rename` keeps the
account's mail and sync state."""
import imaplib
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import free_port                             # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import USER, Env                           # noqa: E402

MSG = (b"From: Upstream <up@example.org>\r\nTo: alice@example.org\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody\r\n")

env = stop_at_end(Env("accounts"))
up = env.remote()
up.append("INBOX", None, None, MSG % (b"first", b"a1"))
up.logout()


def pwfile(name, text):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    return path


def add(name, *extra, password=None, ca=True, port=None, check=True):
    args = ["account", "add", name, "--imap",
            "127.0.0.1:%d" % (port or env.dv.imaps_port), "--user", USER,
            "--password-file", password or env.pwfile]
    if ca:
        args += ["--ca-file", env.ca.cert]
    return env.mv(*args, *extra, check=check)


def names():
    out = json.loads(env.mv("--json", "account", "list").stdout)
    return sorted(a["name"] for a in out)


def remote(password):
    m = imaplib.IMAP4("127.0.0.1", env.dv.imap_port)
    m.login(USER, password)
    return m


def inbox_count(account):
    j = json.loads(env.mv("--json", "status").stdout)
    acct = [a for a in j["accounts"] if a["name"] == account][0]
    return [f for f in acct["folders"] if f["name"] == "INBOX"][0][
        "messages"]


def test_add_with_a_wrong_password_fails_before_saving():
    p = env.fails("add with a wrong password", *[
        "account", "add", "work", "--imap",
        "127.0.0.1:%d" % env.dv.imaps_port, "--user", USER, "--ca-file",
        env.ca.cert, "--password-file", pwfile("wrong", "not-x")])
    expect("authentication refused" in p.stderr and
           "the login was refused" in p.stderr and
           "Nothing was saved" in p.stderr, p.stderr)
    expect("work" not in names(), "the account was saved anyway")


def test_add_says_the_certificate_and_its_fingerprint():
    p = add("work", ca=False, check=False)
    expect(p.returncode != 0, "an untrusted certificate was accepted")
    expect("fingerprint" in p.stderr and "--pin-sha256" in p.stderr and
           "--ca-file" in p.stderr, p.stderr)
    fp = re.search(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}", p.stderr)
    expect(fp is not None, "no fingerprint in: " + p.stderr)
    fp = fp.group(0)
    expect("work" not in names(), "saved after a TLS failure")
    # The fingerprint it printed is the one to pin.
    add("pinned", "--pin-sha256", fp, ca=False)
    env.mv("account", "remove", "pinned", "--yes")


def test_add_says_connection_refused_and_host_not_found():
    p = add("work", port=free_port(), check=False)
    expect(p.returncode != 0 and "nothing answers there" in p.stderr,
           p.stderr)
    p = env.mv("account", "add", "work", "--imap", "nosuchhost.invalid",
               "--user", USER, "--password-file", env.pwfile, check=False)
    expect(p.returncode != 0 and "host name is not known" in p.stderr,
           p.stderr)
    expect("work" not in names(), "saved after a failed check")


def test_add_no_check_saves_without_trying():
    p = add("later", "--no-check", password=pwfile("wrong", "not-x"))
    expect("not checked" in p.stdout, p.stdout)
    expect("later" in names(), "--no-check did not save")
    env.mv("account", "remove", "later", "--yes")


def test_add_checks_and_saves_then_syncs():
    p = add("work")
    expect("connection and login checked" in p.stdout, p.stdout)
    p = env.fails("a second account of that name", "account", "add",
                  "work", "--imap", "127.0.0.1:1", "--user", "x",
                  "--password-file", env.pwfile)
    expect("account set work" in p.stderr, p.stderr)
    env.sync("work")
    expect(inbox_count("work") == 1, "the first sync did not fetch")


def test_changed_upstream_password_says_what_to_do():
    env.dv.set_password("y")
    p = env.fails("sync after the password changed", "sync", "work")
    expect("authentication refused" in p.stderr and
           "'mailvault account set work password'" in p.stderr, p.stderr)
    show = env.mv("account", "show", "work").stdout
    expect("last-error: " in show and "account set work password" in show,
           show)


def test_password_never_comes_from_the_command_line():
    p = env.mv("account", "set", "work", "password", "y", check=False)
    expect(p.returncode == 2 and "never taken from the command line" in
           p.stderr, p.stderr)


def test_account_set_password_then_sync_works():
    p = env.mv("account", "set", "work", "password", "--password-file",
               pwfile("new", "y"))
    expect("password changed" in p.stdout, p.stdout)
    show = env.mv("account", "show", "work").stdout
    expect("password: (set, not shown)" in show and "\ny\n" not in show,
           show)
    m = remote("y")
    m.append("INBOX", None, None, MSG % (b"second", b"a2"))
    m.logout()
    env.sync("work")
    expect(inbox_count("work") == 2, "the sync with the new password")


def test_account_set_host_port_tls_pin():
    env.mv("account", "set", "work", "port", str(free_port()))
    p = env.fails("sync to a closed port", "sync", "work")
    expect("connection refused" in p.stderr, p.stderr)
    # STARTTLS on Dovecot's plain port, then back to implicit TLS.
    env.mv("account", "set", "work", "tls", "starttls")
    env.mv("account", "set", "work", "port", str(env.dv.imap_port))
    env.sync("work")
    show = env.mv("account", "show", "work").stdout
    expect("tls: starttls" in show, show)
    env.mv("account", "set", "work", "tls", "implicit")
    env.mv("account", "set", "work", "port", str(env.dv.imaps_port))
    # Plain text only to this machine, whichever is set first.
    env.mv("account", "set", "work", "host", "localhost")
    env.mv("account", "set", "work", "tls", "none")
    p = env.fails("a remote host while tls is none", "account", "set",
                  "work", "host", "192.0.2.1")
    expect("plain text" in p.stderr, p.stderr)
    env.mv("account", "set", "work", "tls", "implicit")
    env.mv("account", "set", "work", "host", "192.0.2.1")
    p = env.fails("tls none while the host is remote", "account", "set",
                  "work", "tls", "none")
    expect("plain text" in p.stderr, p.stderr)
    env.mv("account", "set", "work", "host", "127.0.0.1")
    # "pin" is pin-sha256; a wrong one fails the sync, removing it heals.
    env.mv("account", "set", "work", "pin", "AA:" * 31 + "AA")
    p = env.fails("sync with a wrong pin", "sync", "work")
    expect("pin" in p.stderr.lower() or "fingerprint" in p.stderr,
           p.stderr)
    p = env.mv("account", "set", "work", "pin", "")
    expect("pin-sha256 removed" in p.stdout, p.stdout)
    env.sync("work")
    p = env.fails("an unknown key", "account", "set", "work", "colour",
                  "blue")
    expect("password (asked for" in p.stderr, p.stderr)


def test_rename_keeps_the_mail():
    p = env.mv("account", "rename", "work", "job")
    expect("now called job" in p.stdout, p.stdout)
    expect(names() == ["job"], names())
    expect(inbox_count("job") == 2, "the mail did not follow the rename")
    p = env.sync_json("job")[0]
    expect(p is not None and p["fetched"] == 0,
           "the renamed account fetched again: %s" % p)
    env.fails("rename onto itself... an existing name", "account",
              "rename", "job", "job")
    env.fails("rename of an unknown account", "account", "rename", "nope",
              "other")


run_tests(globals())
