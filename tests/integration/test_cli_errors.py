"""Every CLI error path prints a sentence ("mailvault: ...") and exits
non-zero; the happy paths of init, ls, show, check, passwd and
credentials work."""
import os
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import CORPUS, Store                         # noqa: E402
from runner import expect, run_tests                     # noqa: E402

st = Store("cli", init=False)
ONE = os.path.join(st.dir, "one")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_ls_without_a_store_fails():
    st.fails("no store yet", "ls")


def test_init_makes_a_private_folder_and_file():
    st.mv("init", "--kdf", "min", "--quiet")
    expect(mode(os.path.dirname(st.path)) == 0o700,
           "store folder is not 0700")
    expect(mode(st.path) == 0o600, "store file is not 0600")


def test_bad_commands_arguments_and_passphrases_get_a_sentence():
    st.fails("init over an existing store", "init", "--kdf", "min")
    st.fails("unknown command", "frobnicate")
    st.fails("bad --kdf", "init", "--kdf", "weird")
    st.fails("unknown account", "ls", "nosuch")
    st.fails("unknown account mailbox", "ls", "nosuch/INBOX")
    wrong = os.path.join(st.dir, "wrong")
    with open(wrong, "w") as f:
        f.write("wrong passphrase\n")
    p = st.fails("wrong passphrase", "--passphrase-file", wrong, "ls")
    expect("passphrase is wrong" in p.stderr.lower(),
           "wrong passphrase text: " + p.stderr)
    st.fails("missing passphrase file", "--passphrase-file",
             os.path.join(st.dir, "nonexistent"), "ls")
    empty = os.path.join(st.dir, "empty")
    open(empty, "w").close()
    st.fails("empty passphrase file", "--passphrase-file", empty, "ls")
    no_file = dict(st.env)
    del no_file["MAILVAULT_PASSPHRASE_FILE"]
    st.fails("no terminal for a prompt", "ls", env=no_file)


def test_bad_imports_shows_and_settings_get_a_sentence():
    st.fails("import of a missing path", "import", "acct",
             os.path.join(st.dir, "none.mbox"))
    notmbox = os.path.join(st.dir, "notmbox")
    with open(notmbox, "w") as f:
        f.write("this is not an mbox\n")
    st.fails("import of a non-mbox file", "import", "acct", notmbox,
             "--format", "mboxrd")
    st.fails("import with a bad account name", "import", "a/b", CORPUS)
    st.mv("import", "acct", CORPUS, "--format", "eml")
    st.fails("show of a missing uid", "show", "acct/INBOX", "99999")
    st.fails("show with a bad uid", "show", "acct/INBOX", "notanumber")
    st.fails("show in a missing mailbox", "show", "acct/Nope", "1")
    st.fails("export to a bad format", "export", "acct",
             os.path.join(st.dir, "x"), "--format", "tar")
    st.fails("account show of an unknown account", "account", "show",
             "nosuch")
    st.fails("sync of an unknown account", "sync", "nosuch")
    st.fails("bad config value", "config", "set", "poll-interval", "soon")


def test_lock_unlock_and_daemon_stop_without_a_daemon_fail():
    # No daemon serves this store: its runtime folder is its own.
    p = st.fails("lock without a daemon", "lock")
    expect("no mailvault daemon is running" in p.stderr,
           "lock text: " + p.stderr)
    st.fails("unlock without a daemon", "unlock")
    st.fails("daemon stop without a daemon", "daemon", "stop")


def test_ls_show_check_credentials_and_help_work():
    expect("acct" in st.mv("ls").stdout.splitlines(),
           "ls does not list the account")
    expect("INBOX" in st.mv("ls", "acct").stdout,
           "ls acct does not list INBOX")
    print("\n".join(st.mv("ls", "acct/INBOX").stdout.splitlines()[:3]))
    one = st.mv("show", "acct/INBOX", "1", "--raw", text=False).stdout
    expect(len(one) > 0, "show printed nothing")
    with open(ONE, "wb") as f:
        f.write(one)
    expect("sound" in st.mv("check").stdout, "check did not pass")
    expect('"password"' in st.mv("--json", "credentials").stdout,
           "credentials --json")
    expect("import" in st.mv("--help").stdout, "--help")
    expect("usage: mailvault import" in st.mv("import", "--help").stdout,
           "import --help")


def test_passwd_retires_the_old_passphrase():
    new = os.path.join(st.dir, "new")
    with open(new, "w") as f:
        f.write("a new passphrase\n")
    st.mv("passwd", "--new-passphrase-file", new, "--kdf", "min")
    st.fails("old passphrase after passwd", "ls")
    got = st.mv("--passphrase-file", new, "show", "acct/INBOX", "1",
                "--raw", text=False).stdout
    with open(ONE, "rb") as f:
        expect(got == f.read(), "content differs after passwd")


def test_show_gives_back_the_first_corpus_message_byte_for_byte():
    first = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))[0]
    with open(os.path.join(CORPUS, first), "rb") as a, open(ONE, "rb") as b:
        expect(a.read() == b.read(), "show does not give back %s byte for "
               "byte" % first)


run_tests(globals())
