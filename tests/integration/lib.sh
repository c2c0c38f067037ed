# Shared by the shell integration tests: a scratch store with a cheap KDF,
# and small assertion helpers. Each test runs in its own folder ($TESTDIR).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${MAILVAULT:?}"
: "${TESTDIR:=$(pwd)}"
export MAILVAULT_STORE="$TESTDIR/store/store.db"
export MAILVAULT_PASSPHRASE_FILE="$TESTDIR/pass"
echo "correct horse battery staple" > "$TESTDIR/pass"
GEN="python3 $TOP/scripts/gen-corpus.py"

mv_() { "$MAILVAULT" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# expect_fail "what" CMD...: the command must fail and print a sentence.
expect_fail() {
	what=$1; shift
	if "$@" >"$TESTDIR/out" 2>"$TESTDIR/err"; then
		fail "$what: succeeded but should have failed"
	fi
	grep -q 'mailvault: ' "$TESTDIR/err" ||
		fail "$what: no error message on stderr: $(cat "$TESTDIR/err")"
	ok "$what: $(head -n 1 "$TESTDIR/err")"
}

new_store() { mv_ init --kdf min --quiet; }
