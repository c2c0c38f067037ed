"""The raw store file and its WAL must not contain any subject, address,
body word, file name or mailbox name of the corpus (DESIGN.md section 2)."""
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import CORPUS, Store                         # noqa: E402
from runner import expect, run_tests                     # noqa: E402

with open(os.path.join(CORPUS, "leak-words.txt"), "rb") as f:
    WORDS = f.read().splitlines()
NAMES = [b"Secret Projects", b"Zanzibar Merger", b"leakacct"]
st = Store("leak")


def test_the_leak_words_are_there_to_find():
    """The check must be able to fail: the corpus itself has the words."""
    expect(len(WORDS) >= 100, "leak-words.txt has fewer than 100 entries")
    corpus = b"".join(open(f, "rb").read()
                      for f in glob.glob(os.path.join(CORPUS, "*.eml")))
    expect(WORDS[0] in corpus, "leak words not in the corpus")


def test_no_corpus_text_or_name_is_readable_in_the_store_or_its_wal():
    st.mv("import", "leakacct", CORPUS, "--format", "eml", "--quiet")
    st.mv("import", "leakacct", CORPUS, "--format", "eml", "--mailbox",
          "Secret Projects/Zanzibar Merger", "--quiet")
    # Keep the WAL: checkpointing would hide what sits in it.
    found = checked = 0
    for path in (st.path, st.path + "-wal"):
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        for w in [w for w in WORDS if w] + NAMES:
            checked += 1
            if w in data:
                print("LEAK: %r is readable in %s" % (
                    w, os.path.basename(path)))
                found += 1
    expect(found == 0, "%d plaintext strings found in the store" % found)
    print("checked %d strings: none readable" % checked)


run_tests(globals())
