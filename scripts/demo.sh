#!/bin/sh
# make run: the embedded default. A demo store in demo/ under the project,
# made with a demo passphrase and the cheapest KDF (for demos only), holding
# the messages of tests/corpus/ in the account "demo"; then it lists them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mv=${MAILVAULT:-$top/mailvault}
demo=$top/demo
export MAILVAULT_STORE="$demo/store.db"
export MAILVAULT_PASSPHRASE_FILE="$demo/passphrase"
mkdir -p "$demo"
chmod 700 "$demo"
[ -f "$demo/passphrase" ] || echo "demo passphrase, not for real mail" > "$demo/passphrase"
if [ ! -f "$demo/store.db" ]; then
	"$mv" init --kdf min
fi
"$mv" import demo "$top/tests/corpus" --format eml
echo
echo "== mailboxes of the account 'demo'"
"$mv" ls demo
echo
echo "== messages in demo/INBOX"
"$mv" ls demo/INBOX
echo
echo "The demo store is $demo/store.db (passphrase in $demo/passphrase)."
echo "Try: MAILVAULT_STORE=$demo/store.db MAILVAULT_PASSPHRASE_FILE=$demo/passphrase $mv show demo/INBOX 1"
echo
echo "== serving it: point a mail client at the server with these settings"
"$mv" credentials
echo "Server name: 127.0.0.1 (or localhost). Security: STARTTLS on the IMAP"
echo "and POP3 ports or SSL/TLS on the IMAPS and POP3S ports; the"
echo "certificate is self-signed, so"
echo "accept it once after checking the fingerprint above (or trust the file"
echo "that '$mv credentials --cert' prints). Authentication: normal password."
echo "Stop the server with Ctrl-C."
echo
exec "$mv" serve
