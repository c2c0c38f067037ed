#!/bin/sh
# The Debian package that `make deb` left in DIR (build/deb): lintian
# finds no error in it; unpacked into a scratch root (dpkg -x: the host's
# package database is not touched) it holds the program, the man page,
# the systemd user unit and the bash completion; and the mailvault in it
# runs: --version, then a store made and listed with it.
# Usage: deb-check.sh DIR
set -eu
dir=$1
deb=$(ls "$dir"/mailvault_*.deb)
root="$dir/root"
fail() { echo "deb-check: $*" >&2; exit 1; }

# (As root, which CI is, lintian says it would rather not be: noise.)
if ! out=$(lintian --fail-on error --tag-display-limit 0 "$deb" 2>&1); then
	printf '%s\n' "$out"
	fail "lintian found errors in $deb"
fi
printf '%s\n' "$out" | grep -v "running with root privileges" || true

rm -rf "$root" && mkdir -p "$root"
dpkg -x "$deb" "$root"
for f in usr/bin/mailvault usr/share/man/man1/mailvault.1.gz \
    usr/lib/systemd/user/mailvault.service \
    usr/share/bash-completion/completions/mailvault; do
	[ -e "$root/$f" ] || fail "the package has no /$f"
done
grep -q '^ExecStart=/usr/bin/mailvault serve$' \
    "$root/usr/lib/systemd/user/mailvault.service" ||
	fail "the user unit does not start /usr/bin/mailvault"

mv="$root/usr/bin/mailvault"
want=$(dpkg-deb -f "$deb" Version)
got=$("$mv" --version)
[ "$got" = "mailvault $want" ] ||
	fail "mailvault --version says '$got', the package is $want"

# It runs: a store of its own, an account, a listing.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'deb check passphrase\n' > "$work/pass"
export MAILVAULT_STORE="$work/store.db" MAILVAULT_PASSPHRASE_FILE="$work/pass"
"$mv" init --kdf min --quiet
printf 'From: a@example.org\nSubject: packaged\n\nhello\n' > "$work/m.eml"
"$mv" import pkg "$work/m.eml" --quiet
"$mv" ls pkg/INBOX | grep -q packaged || fail "the packaged mailvault lost a message"
echo "deb-check: $(basename "$deb"): lintian clean of errors, files in place, '$got' runs"
