# mailvault config: list, get, set, with every value checked before it is
# saved and a clear error for a bad key or value.
. "$(dirname "$0")/lib.sh"
new_store
mv_ config list | grep -q '^imap-port *1143' || fail "default imap-port"
[ "$(mv_ config get pop3-delete)" = hide ] || fail "default pop3-delete"
mv_ config set imap-port 2143 | grep -q restart || fail "a port change must say it needs a restart"
[ "$(mv_ config get imap-port)" = 2143 ] || fail "imap-port was not saved"
mv_ config set pop3-delete expunge >/dev/null
[ "$(mv_ config get pop3-delete)" = expunge ] || fail "pop3-delete was not saved"
mv_ config set listen ::1 >/dev/null
mv_ --json config list | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["listen"]=="::1" and d["imap-port"]=="2143", d'
expect_fail "unknown key" mv_ config set colour blue
expect_fail "port out of range" mv_ config set imaps-port 70000
expect_fail "port not a number" mv_ config set pop3-port abc
expect_fail "non-loopback listen" mv_ config set listen 0.0.0.0
grep -q loopback "$TESTDIR/err" || fail "the listen error must say loopback"
expect_fail "bad choice" mv_ config set log-level loud
expect_fail "poll interval too small" mv_ config set poll-interval 1
expect_fail "missing value" mv_ config set imap-port
[ "$(mv_ config get imap-port)" = 2143 ] || fail "a refused value changed the setting"
# Settings are sealed like everything else.
mv_ config set listen 127.0.0.42 >/dev/null
for f in "$MAILVAULT_STORE" "$MAILVAULT_STORE-wal"; do
	[ -f "$f" ] && grep -qaF 127.0.0.42 "$f" && fail "a setting is readable in $f"
done
echo "config checks passed"
