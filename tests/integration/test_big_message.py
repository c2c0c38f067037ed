"""A message with a 20 MB attachment (generated here, not committed) is
imported and read back byte-exact, and neither import nor show needs memory
that grows with the message."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import GEN_CORPUS, MV, SANITIZED, Store      # noqa: E402
from runner import expect, run_tests                     # noqa: E402

st = Store("big", passphrase="big message test")
big = os.path.join(st.dir, "big.eml")
subprocess.run([sys.executable, GEN_CORPUS, "big", "20", big], check=True)
size = os.path.getsize(big)
LIMIT = 32 * 1024 if not SANITIZED else 200 * 1024     # KiB
rss = {}


def run(*args, stdout=None):
    """Run mailvault; return that one process's peak RSS in KiB."""
    p = subprocess.Popen([MV, *args], env=st.env, stdout=stdout)
    _, status, ru = os.wait4(p.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    expect(rc == 0, "mailvault %s failed (%d)" % (" ".join(args), rc))
    return ru.ru_maxrss


def test_a_20_mb_message_imports_and_shows_back_byte_exact():
    expect(size > 20_000_000, "the generated message has %d bytes" % size)
    rss["import"] = run("import", "bigacct", big, "--format", "eml",
                        "--quiet")
    back = os.path.join(st.dir, "back.eml")
    with open(back, "wb") as out:
        rss["show"] = run("show", "bigacct/INBOX", "1", "--raw",
                          stdout=out)
    # Read as a person would: the text, the attachment listed, not read.
    # (Measured before this process reads the files below: a child's peak
    # RSS counts what the parent had when it forked.)
    with open(os.path.join(st.dir, "shown.txt"), "wb") as out:
        rss["render"] = run("show", "bigacct/INBOX", "1", stdout=out)
    with open(big, "rb") as a, open(back, "rb") as b:
        expect(a.read() == b.read(), "bytes differ")


def test_import_and_show_memory_does_not_grow_with_the_message():
    print("import max RSS %d KiB, show max RSS %d KiB for a %d byte "
          "message" % (rss["import"], rss["show"], size))
    expect(rss["import"] < LIMIT, "import used %d KiB" % rss["import"])
    expect(rss["show"] < LIMIT, "show --raw used %d KiB" % rss["show"])
    expect(rss["render"] < LIMIT, "show used %d KiB" % rss["render"])


run_tests(globals())
