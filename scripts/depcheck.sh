#!/bin/sh
# Check that includes point one way: cli -> server, sync -> store -> lib, that
# server/ and sync/ never include each other, and that third-party headers
# stay in their one place (sodium in store/crypt.c, sqlite3 in store/,
# openssl in lib/tls*.c).
set -u
cd "$(dirname "$0")/.."
bad=0
fail() { echo "depcheck: $*"; bad=1; }
check_dir() {	# dir, forbidden include prefixes...
	d=$1; shift
	for p in "$@"; do
		hits=$(grep -rn "#include \"$p/" "$d" 2>/dev/null)
		[ -n "$hits" ] && fail "$d/ must not include $p/:
$hits"
	done
}
check_dir lib store server sync cli
check_dir store server sync cli
check_dir server sync cli
check_dir sync server cli
hits=$(grep -rln '#include <sodium' lib store server sync cli | grep -v '^store/crypt.c$')
[ -n "$hits" ] && fail "<sodium.h> outside store/crypt.c: $hits"
hits=$(grep -rln '#include <sqlite3' lib server sync cli)
[ -n "$hits" ] && fail "<sqlite3.h> outside store/: $hits"
hits=$(grep -rln '#include <openssl' lib store server sync cli | grep -v -e '^lib/tls' -e '^lib/digest.c$')
[ -n "$hits" ] && fail "<openssl/*> outside lib/tls*.c: $hits"
hits=$(grep -rnwE 'strcpy|strcat|sprintf|gets|atoi|strtok' --include='*.c' lib store server sync cli | grep -v '^\S*:[0-9]*:\s*/\?\*')
[ -n "$hits" ] && fail "banned functions:
$hits"
[ "$bad" = 0 ] && echo "depcheck: the include rules hold"
exit $bad
