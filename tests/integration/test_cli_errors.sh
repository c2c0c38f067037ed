# Every CLI error path prints a sentence and exits non-zero; the happy
# paths of init, ls, show, check, passwd and credentials work.
. "$(dirname "$0")/lib.sh"

expect_fail "no store yet" mv_ ls
new_store
[ "$(stat -c %a "$TESTDIR/store")" = 700 ] || fail "store folder is not 0700"
[ "$(stat -c %a "$MAILVAULT_STORE")" = 600 ] || fail "store file is not 0600"
expect_fail "init over an existing store" mv_ init --kdf min
expect_fail "unknown command" mv_ frobnicate
expect_fail "bad --kdf" mv_ init --kdf weird
expect_fail "unknown account" mv_ ls nosuch
expect_fail "unknown account mailbox" mv_ ls nosuch/INBOX
echo "wrong passphrase" > "$TESTDIR/wrong"
expect_fail "wrong passphrase" mv_ --passphrase-file "$TESTDIR/wrong" ls
grep -qi 'passphrase is wrong' "$TESTDIR/err" || fail "wrong passphrase text: $(cat "$TESTDIR/err")"
expect_fail "missing passphrase file" mv_ --passphrase-file "$TESTDIR/nonexistent" ls
: > "$TESTDIR/empty"
expect_fail "empty passphrase file" mv_ --passphrase-file "$TESTDIR/empty" ls
expect_fail "no terminal for a prompt" env -u MAILVAULT_PASSPHRASE_FILE "$MAILVAULT" ls </dev/null
expect_fail "import of a missing path" mv_ import acct "$TESTDIR/none.mbox"
printf 'this is not an mbox\n' > "$TESTDIR/notmbox"
expect_fail "import of a non-mbox file" mv_ import acct "$TESTDIR/notmbox" --format mboxrd
expect_fail "import with a bad account name" mv_ import a/b "$TOP/tests/corpus"
mv_ import acct "$TOP/tests/corpus" --format eml >/dev/null
expect_fail "show of a missing uid" mv_ show acct/INBOX 99999
expect_fail "show with a bad uid" mv_ show acct/INBOX notanumber
expect_fail "show in a missing mailbox" mv_ show acct/Nope 1
expect_fail "export to a bad format" mv_ export acct "$TESTDIR/x" --format tar
expect_fail "account show of an unknown account" mv_ account show nosuch
expect_fail "sync of an unknown account" mv_ sync nosuch
expect_fail "bad config value" mv_ config set poll-interval soon
# No daemon serves this store (a runtime folder of our own).
mkdir -p "$TESTDIR/run" && chmod 700 "$TESTDIR/run"
export XDG_RUNTIME_DIR="$TESTDIR/run"
expect_fail "lock without a daemon" mv_ lock
grep -q 'no mailvault daemon is running' "$TESTDIR/err" || fail "lock text"
expect_fail "unlock without a daemon" mv_ unlock
expect_fail "daemon stop without a daemon" mv_ daemon stop

mv_ ls | grep -qx acct || fail "ls does not list the account"
mv_ ls acct | grep -q INBOX || fail "ls acct does not list INBOX"
mv_ ls acct/INBOX | head -n 3
mv_ show acct/INBOX 1 > "$TESTDIR/one"
[ -s "$TESTDIR/one" ] || fail "show printed nothing"
mv_ check | grep -q sound || fail "check did not pass"
mv_ --json credentials | grep -q '"password"' || fail "credentials --json"
mv_ --help | grep -q import || fail "--help"
mv_ import --help | grep -q 'usage: mailvault import' || fail "import --help"

# passwd: the old passphrase stops working, the new one works.
echo "a new passphrase" > "$TESTDIR/new"
mv_ passwd --new-passphrase-file "$TESTDIR/new" --kdf min >/dev/null
expect_fail "old passphrase after passwd" mv_ ls
mv_ --passphrase-file "$TESTDIR/new" show acct/INBOX 1 | cmp - "$TESTDIR/one" ||
	fail "content differs after passwd"
echo "all CLI error paths answered"
first=$(ls "$TOP"/tests/corpus/*.eml | sort | head -n 1)
cmp "$TESTDIR/one" "$first" || fail "show does not give back $first byte for byte"
