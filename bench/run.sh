#!/bin/sh
# make bench: every benchmark, each side by side with Dovecot (or mbsync)
# on the same machine and the same data, printed as ratios. Benchmarks are
# never tests: they print numbers and fail only if something broke.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${MAILVAULT:?set MAILVAULT to the mailvault binary}"
for b in "$here"/bench_*.py; do
	echo "== $(basename "$b" .py)"
	python3 "$b"
done
