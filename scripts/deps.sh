#!/bin/sh
# Make sure the Debian packages that build and test mailvault are present.
# Run by the Makefile before the first build. As root it installs what is
# missing with apt-get; otherwise it prints the exact command and fails.
# Usage: deps.sh PACKAGE...
set -u
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "mailvault: installing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || { echo "mailvault: apt-get update failed; check the network and apt sources" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "mailvault: apt-get install$missing failed" >&2; exit 1; }
	exit 0
fi
echo "mailvault: missing Debian packages:$missing" >&2
echo "Run as root:  apt-get install$missing" >&2
exit 1
