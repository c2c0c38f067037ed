"""Import -> export round trips give back the same mbox file and the same
Maildir messages byte for byte, and thousands of generated messages import
with nothing lost."""
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import GEN_CORPUS, SANITIZED, Store          # noqa: E402
from runner import expect, run_tests                     # noqa: E402

st = Store("roundtrip")
N = 800 if SANITIZED else int(os.environ.get("ROUNDTRIP_MESSAGES", "3000"))
IN = os.path.join(st.dir, "inbox")      # an mbox named so goes to INBOX
OUT = os.path.join(st.dir, "out.mbox")


def gen(*args):
    subprocess.run([sys.executable, GEN_CORPUS, *args], check=True)


gen("mbox", str(N), IN, "--seed", "7")
with open(IN, "rb") as f:
    WANT = sum(1 for line in f if line.startswith(b"From "))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_an_mbox_round_trip_is_byte_exact():
    st.mv("import", "rt", IN, "--quiet")
    boxes = json.loads(st.mv("--json", "ls", "rt").stdout)
    count = [m for m in boxes if m["name"] == "INBOX"][0]["messages"]
    expect(count == WANT, "imported %d messages of %d" % (count, WANT))
    st.mv("export", "rt", OUT, "--mailbox", "INBOX")
    expect(read(IN) == read(OUT), "mbox round trip differs")
    print("mbox round trip of %d messages is byte-exact" % N)


def test_importing_again_skips_everything():
    out = st.mv("import", "rt", IN).stdout
    expect("0 imported, %d skipped" % WANT in out,
           "re-import was not skipped: " + out)


def test_every_message_of_the_input_is_in_the_store_once():
    def msgs(path):
        return sorted(hashlib.sha256(x).hexdigest()
                      for x in read(path).split(b"\n\nFrom "))
    a, b = msgs(IN), msgs(OUT)
    expect(a == b, "content hashes differ")
    print("content hashes equal for %d messages" % len(a))


def load_maildir(root):
    """{folder: [(sha256, flags)]}, sorted."""
    out = {}
    for dp, dn, fn in os.walk(root):
        if os.path.basename(dp) not in ("cur", "new"):
            continue
        folder = os.path.relpath(os.path.dirname(dp), root)
        for f in fn:
            flags = f.split(":2,", 1)[1] if ":2," in f else ""
            body = read(os.path.join(dp, f))
            out.setdefault(folder, []).append(
                (hashlib.sha256(body).hexdigest(), "".join(sorted(flags))))
    return {k: sorted(v) for k, v in out.items()}


def test_a_maildir_with_folders_and_flags_round_trips():
    md = os.path.join(st.dir, "md")
    gen("maildir", "300", md)
    st.mv("import", "mdacct", md, "--quiet")
    st.mv("export", "mdacct", os.path.join(st.dir, "md-out"), "--format",
          "maildir")
    a, b = load_maildir(md), load_maildir(os.path.join(st.dir, "md-out"))
    expect(a.keys() == b.keys(), (sorted(a), sorted(b)))
    for k in a:
        expect(a[k] == b[k], "folder %s differs" % k)
    print("maildir round trip equal:", {k: len(v) for k, v in a.items()})


def test_the_store_passes_check():
    st.mv("check", "--quiet")


run_tests(globals())
