"""Integration: bash completion (cli/completion.bash) and `--version`.

The completion function is run in a real bash with COMP_WORDS set as
bash sets them, against this build's mailvault (first on PATH): commands,
subcommands and options come from the program's own help; accounts and
ACCOUNT/MAILBOX paths come from the store when a passphrase file is set,
and not at all (no prompt, no error, no wait) when none is. `--version`
says the version debian/changelog gives.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import CORPUS, MV, TESTDIR, TOP, Store         # noqa: E402
from ptyrun import run_pty                                 # noqa: E402
from runner import expect, run_tests                       # noqa: E402

SCRIPT = os.path.join(TOP, "cli", "completion.bash")
BIN = os.path.join(TESTDIR, "bin")
os.makedirs(BIN, exist_ok=True)
if not os.path.exists(os.path.join(BIN, "mailvault")):
    os.symlink(os.path.abspath(MV), os.path.join(BIN, "mailvault"))

st = Store("comp")
st.mv("import", "work", os.path.join(CORPUS, "01-plain-ascii.eml"))
st.mv("mailbox", "create", "work/Projects/2026")
st.mv("mailbox", "create", "work/Old Stuff")
st.mv("import", "home", os.path.join(CORPUS, "02-utf8-8bit.eml"))


def complete(line, env=None):
    """COMPREPLY for the command line typed so far (a trailing space
    starts a new, empty word)."""
    env = dict(env or st.env, PATH=BIN + os.pathsep + os.environ["PATH"])
    prog = ('source "$1"; IFS=" " read -ra COMP_WORDS <<< "$2"; '
            '[[ $2 == *" " ]] && COMP_WORDS+=(""); '
            'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mailvault; '
            'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", prog, "bash", SCRIPT, line], env=env,
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    expect(p.returncode == 0 and p.stderr == "", "completing %r: %d %r" % (
        line, p.returncode, p.stderr))
    return [w for w in p.stdout.split("\n") if w]


def test_commands_subcommands_and_options():
    expect(complete("mailvault m") == ["mailbox", "mv"],
           "commands: %r" % complete("mailvault m"))
    expect(complete("mailvault mailbox ") == ["create", "rename", "delete"],
           "mailbox: %r" % complete("mailvault mailbox "))
    expect(set(complete("mailvault daemon ")) == {"start", "stop",
                                                   "status"},
           "daemon: %r" % complete("mailvault daemon "))
    got = complete("mailvault mv work/INBOX 1 --")
    expect("--search" in got and "--dry-run" in got and "--json" in got,
           "mv's options: %r" % got)
    expect(complete("mailvault import work --f") == ["--format"],
           "import --f: %r" % complete("mailvault import work --f"))
    expect(complete("mailvault import --format mb") == ["mboxrd", "mboxo",
                                                         "mbox"],
           "formats: %r" % complete("mailvault import --format mb"))
    expect("complete" not in complete("mailvault "),
           "the hidden helper is offered as a command")


def test_accounts_and_mailboxes_with_a_passphrase_file():
    expect(complete("mailvault ls ") == ["home/", "work/"],
           "accounts: %r" % complete("mailvault ls "))
    got = complete("mailvault show work/")
    expect(got == ["work/INBOX", "work/Old Stuff", "work/Projects",
                   "work/Projects/2026"], "mailboxes: %r" % got)
    expect(complete("mailvault mv work/INBOX 1 work/P") == [
        "work/Projects", "work/Projects/2026"], "a destination")
    expect(complete("mailvault sync h") == ["home"], "sync's accounts")
    expect(complete("mailvault account show ") == ["home", "work"],
           "account show")


def test_without_a_passphrase_only_commands_and_no_prompt():
    env = dict(st.env)
    del env["MAILVAULT_PASSPHRASE_FILE"]
    expect(complete("mailvault ls ", env) == [], "accounts were offered "
           "without a passphrase")
    expect(complete("mailvault mai", env) == ["mailbox"], "commands")
    # on a terminal, where a prompt could be shown: none is, at once
    rc, out, p = run_pty(["complete", "accounts"], env, timeout=20)
    expect(rc == 0 and "assphrase" not in out and out.strip() == "",
           "complete on a terminal without a passphrase: %d %r" % (rc, out))
    # a wrong one: nothing either, and no error in the command line
    bad = os.path.join(TESTDIR, "wrong")
    with open(bad, "w") as f:
        f.write("not it\n")
    env["MAILVAULT_PASSPHRASE_FILE"] = bad
    expect(complete("mailvault ls ", env) == [], "a wrong passphrase")


def test_global_options_go_along():
    env = dict(st.env)
    store = env.pop("MAILVAULT_STORE")
    expect(complete("mailvault --store %s ls w" % store, env) == ["work/"],
           "--store was not passed to the helper")


def test_version_is_the_changelog_version():
    with open(os.path.join(TOP, "debian", "changelog")) as f:
        want = re.match(r"mailvault \(([^)]+)\)", f.readline()).group(1)
    out = st.mv("--version").stdout
    expect(out == "mailvault %s\n" % want, "--version says %r, the "
           "changelog %s" % (out, want))


run_tests(globals())
