# Import -> export round trips give back the same mbox file and the same
# Maildir messages byte for byte, and thousands of generated messages import
# with nothing lost.
. "$(dirname "$0")/lib.sh"
new_store
N=${ROUNDTRIP_MESSAGES:-3000}
[ -n "${MAILVAULT_SANITIZED:-}" ] && N=800

$GEN mbox "$N" "$TESTDIR/in.mbox" --seed 7
mv_ import rt "$TESTDIR/in.mbox" --quiet
count=$(mv_ --json ls rt | python3 -c 'import json,sys; print([m for m in json.load(sys.stdin) if m["name"]=="INBOX"][0]["messages"])')
want=$(grep -c '^From ' "$TESTDIR/in.mbox")
[ "$count" = "$want" ] || fail "imported $count messages of $want"
mv_ export rt "$TESTDIR/out.mbox" --mailbox INBOX
cmp "$TESTDIR/in.mbox" "$TESTDIR/out.mbox" || fail "mbox round trip differs"
ok "mbox round trip of $N messages is byte-exact"

# Import again: everything is skipped, nothing doubles.
mv_ import rt "$TESTDIR/in.mbox" | grep -q "0 imported, $want skipped" || fail "re-import was not skipped"

# Content hashes: every message of the input is in the store once.
python3 - "$TESTDIR/in.mbox" "$TESTDIR/out.mbox" <<'PY'
import hashlib, sys
def msgs(p):
    data = open(p, 'rb').read()
    parts = data.split(b'\n\nFrom ')
    return sorted(hashlib.sha256(x).hexdigest() for x in parts)
a, b = msgs(sys.argv[1]), msgs(sys.argv[2])
assert a == b, "content hashes differ"
print("content hashes equal for", len(a), "messages")
PY

# Maildir++ with folders and flags.
$GEN maildir 300 "$TESTDIR/md"
mv_ import mdacct "$TESTDIR/md" --quiet
mv_ export mdacct "$TESTDIR/md-out" --format maildir
python3 - "$TESTDIR/md" "$TESTDIR/md-out" <<'PY'
import os, sys, hashlib
def load(root):
    out = {}
    for dp, dn, fn in os.walk(root):
        if os.path.basename(dp) not in ("cur", "new"):
            continue
        folder = os.path.relpath(os.path.dirname(dp), root)
        for f in fn:
            flags = f.split(":2,", 1)[1] if ":2," in f else ""
            body = open(os.path.join(dp, f), "rb").read()
            out.setdefault(folder, []).append((hashlib.sha256(body).hexdigest(), "".join(sorted(flags))))
    return {k: sorted(v) for k, v in out.items()}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
for k in a:
    assert a[k] == b[k], "folder %s differs" % k
print("maildir round trip equal:", {k: len(v) for k, v in a.items()})
PY
mv_ check --quiet
