#!/bin/sh
# Check that includes point one way: cli -> daemon -> server, sync -> store
# -> lib, that server/ and sync/ never include each other, that third-party
# headers stay in their one place (sodium in store/crypt.c, sqlite3 and
# zstd in store/, openssl in lib/tls*.c), and that a module's private
# header (*_int.h) is included by that module's files alone.
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
# daemon/ stands below cli/ and above everything else.
check_dir daemon cli
for d in lib store server sync; do check_dir "$d" daemon; done
hits=$(grep -rln '#include <sodium' lib store server sync daemon cli | grep -v '^store/crypt.c$')
[ -n "$hits" ] && fail "<sodium.h> outside store/crypt.c: $hits"
hits=$(grep -rln '#include <sqlite3' lib server sync daemon cli)
[ -n "$hits" ] && fail "<sqlite3.h> outside store/: $hits"
hits=$(grep -rln '#include <openssl' lib store server sync daemon cli | grep -v -e '^lib/tls' -e '^lib/digest.c$')
[ -n "$hits" ] && fail "<openssl/*> outside lib/tls*.c and lib/digest.c: $hits"
hits=$(grep -rnwE 'strcpy|strcat|sprintf|gets|atoi|strtok' --include='*.c' lib store server sync daemon cli | grep -v '^\S*:[0-9]*:\s*/\?\*')
[ -n "$hits" ] && fail "banned functions:
$hits"

# ---- private headers, and zstd (issue 10) ----
# A private header (*_int.h) is for the files of its own folder alone:
# lib/mime_int.h for lib/, store/store_int.h for store/, sync/up_int.h and
# sync/engine_int.h for sync/, and server/server_int.h (the state both
# servers share) for server/ and its subfolders. The two servers count as
# folders of their own: server/imap/*_int.h is for server/imap/ only,
# server/pop3/*_int.h for server/pop3/ only (the IMAP server may not reach
# into the POP3 server's internals, nor the other way), and server/*.c
# sees neither: what they offer goes through imapd.h and pop3d.h.
# The unit tests (tests/unit/) are white-box and not checked here.
srcs=$(find lib store server sync cli daemon -name '*.[ch]' 2>/dev/null)
hits=$(for f in $srcs; do
	grep -n '#include "[^"]*_int\.h"' "$f" | while IFS= read -r line; do
		h=$(printf '%s\n' "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
		case "$(dirname "$f")/" in
		"$(dirname "$h")/"*) ;;
		*) echo "$f:$line" ;;
		esac
	done
done)
[ -n "$hits" ] && fail "a private header (*_int.h) included outside its folder:
$hits"
hits=$(grep -rln '#include <zstd' lib store server sync cli daemon 2>/dev/null |
    grep -v '^store/')
[ -n "$hits" ] && fail "<zstd.h> outside store/: $hits"

[ "$bad" = 0 ] && echo "depcheck: the include rules hold"
exit $bad
