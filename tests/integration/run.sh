#!/bin/sh
# Run every integration test (tests/integration/test_*.py, each on the one
# runner, tests/lib/runner.py) against the binary in $MAILVAULT, each in
# its own scratch folder; print a summary.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MAILVAULT:?set MAILVAULT to the mailvault binary}"
export MAILVAULT
pass=0; fail=0; failed=""
for t in "$here"/test_*.py; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	work=$(mktemp -d /tmp/mailvault-it.XXXXXX)
	start=$(date +%s)
	if (cd "$work" && TESTDIR="$work" python3 "$t") >"$work.log" 2>&1; then
		pass=$((pass + 1)); echo "ok   $name ($(( $(date +%s) - start )) s)"
		sed -n 's/^summary: /     /p' "$work.log"
		rm -rf "$work" "$work.log"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start )) s); its output:"
		tail -n 60 "$work.log" | sed 's/^/    /'
		rm -rf "$work"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "integration: $pass passed, $fail failed"
[ "$fail" = 0 ]
