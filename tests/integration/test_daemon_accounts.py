"""A running daemon follows the accounts at once (issue 16, item 2), with
a real private Dovecot upstream: an account added while it runs is synced
in the background and `mailvault sync NAME` works without a restart; when
the upstream password changes, the sync says how to fix it and `account
set NAME password` makes the daemon try again at once (its backoff
forgotten); a renamed account is synced under its new name; a removed
one's sync stops; an account added while the daemon is locked is synced
after the unlock."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import free_port, wait_for                   # noqa: E402
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import USER, Env                           # noqa: E402

MSG = (b"From: Upstream <up@example.org>\r\nTo: alice@example.org\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nbody\r\n")

env = stop_at_end(Env("daccounts"))
env.mv("config", "set", "imap-port", str(free_port()))
m = env.remote()
m.append("INBOX", None, None, MSG % (b"first", b"d1"))
m.logout()
stop_at_end(lambda: env.mv("daemon", "stop", check=False))
state = {"pw": env.pwfile}


def add(name, *extra):
    return env.mv("account", "add", name, "--imap",
                  "127.0.0.1:%d" % env.dv.imaps_port, "--user", USER,
                  "--ca-file", env.ca.cert, "--password-file", state["pw"],
                  *extra)


def status():
    return json.loads(env.mv("--json", "status").stdout)


def account(name):
    found = [a for a in status().get("accounts", []) if a["name"] == name]
    return found[0] if found else None


def log():
    with open(env.log) as f:
        return f.read()


def test_account_added_while_running_syncs_without_restart():
    p = env.mv("daemon", "start")
    expect("daemon started" in p.stdout, p.stdout)
    p = add("work")
    expect("running daemon took it: syncing 1 account" in p.stdout and
           "1 started" in p.stdout, p.stdout)
    p = env.mv("sync", "work")
    expect("work: done" in p.stdout, p.stdout)
    a = account("work")
    box = [f for f in a["folders"] if f["name"] == "INBOX"][0]
    expect(box["messages"] == 1, a)
    wait_for(lambda: "syncing work in the background" in log(), 10,
             "the new worker in the log")


def test_new_password_is_tried_at_once():
    env.dv.set_password("y")
    p = env.mv("sync", "work", check=False)
    expect(p.returncode != 0 and
           "'mailvault account set work password'" in p.stdout + p.stderr,
           p.stdout + p.stderr)
    expect(account("work")["last_error"] != "", "no error recorded")
    state["pw"] = os.path.join(env.dir, "new-password")
    with open(state["pw"], "w") as f:
        f.write("y\n")
    p = env.mv("account", "set", "work", "password", "--password-file",
               state["pw"])
    expect("1 restarted" in p.stdout, p.stdout)
    # No `sync`: the worker, after a failed login, would wait its
    # longest backoff; the change makes it try again now.
    wait_for(lambda: account("work")["last_error"] == "", 60,
             "the worker to sync with the new password")
    expect("its settings changed; syncing again now" in log(),
           "the restart is not in the log")


def test_rename_is_followed():
    p = env.mv("account", "rename", "work", "job")
    expect("1 renamed" in p.stdout, p.stdout)
    p = env.mv("sync", "job")
    expect("job: done" in p.stdout, p.stdout)
    p = env.mv("sync", "work", check=False)
    expect(p.returncode != 0 and "no account named work" in p.stderr,
           p.stderr)
    expect("sync work: the account is now called job" in log(),
           "the rename is not in the log")
    plans = status()["accounts"]
    expect([a["name"] for a in plans] == ["job"], plans)


def test_removed_account_stops_syncing():
    p = add("other")
    expect("1 started" in p.stdout, p.stdout)
    env.mv("sync", "other")
    p = env.mv("account", "remove", "other", "--yes")
    expect("1 stopped" in p.stdout and "syncing 1 account" in p.stdout,
           p.stdout)
    expect("no longer syncing other" in log(), "not in the log")
    expect(account("other") is None, "still in the status")
    p = env.mv("sync")
    expect("job: done" in p.stdout and "other" not in p.stdout, p.stdout)


def test_account_added_while_locked_syncs_after_unlock():
    p = env.mv("lock")
    expect("locked" in p.stdout, p.stdout)
    p = add("late")
    expect("locked: the accounts are read at unlock" in p.stdout, p.stdout)
    env.mv("unlock")
    p = env.mv("sync", "late")
    expect("late: done: 1 new" in p.stdout, p.stdout)


def test_stop():
    env.mv("daemon", "stop")


run_tests(globals())
