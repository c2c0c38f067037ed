"""A message with a 20 MB attachment (generated here, not committed) is
imported and read back byte-exact, and neither import nor show needs memory
that grows with the message."""
import os, subprocess, sys

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
mv = os.environ["MAILVAULT"]
tmp = os.environ["TESTDIR"]
env = dict(os.environ, MAILVAULT_STORE=tmp + "/store/store.db",
           MAILVAULT_PASSPHRASE_FILE=tmp + "/pass")
open(tmp + "/pass", "w").write("big message test\n")
sanitized = bool(os.environ.get("MAILVAULT_SANITIZED"))

def run(*args, stdout=None):
    """Run mailvault; return that one process's peak RSS in KiB."""
    p = subprocess.Popen([mv, *args], env=env, stdout=stdout)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, "mailvault %s failed" % " ".join(args)
    return ru.ru_maxrss

run("init", "--kdf", "min", "--quiet")
big = tmp + "/big.eml"
subprocess.run([sys.executable, top + "/scripts/gen-corpus.py", "big", "20", big], check=True)
size = os.path.getsize(big)
assert size > 20_000_000, size
rss_import = run("import", "bigacct", big, "--format", "eml", "--quiet")
with open(tmp + "/back.eml", "wb") as out:
    rss_show = run("show", "bigacct/INBOX", "1", stdout=out)
assert open(big, "rb").read() == open(tmp + "/back.eml", "rb").read(), "bytes differ"
print("import max RSS %d KiB, show max RSS %d KiB for a %d byte message" % (rss_import, rss_show, size))
limit = 32 * 1024 if not sanitized else 200 * 1024
assert rss_import < limit, "import used %d KiB" % rss_import
assert rss_show < limit, "show used %d KiB" % rss_show
print("1 passed, 0 failed")
