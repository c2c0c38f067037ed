#!/bin/sh
# Run each Check test binary given; print a summary; fail if any failed.
# Check prints its own "Checks: N, Failures: N, Errors: N" line per suite.
set -u
pass=0; fail=0
for t in "$@"; do
	echo "== $(basename "$t")"
	if CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "unit suites: $pass passed, $fail failed"
[ "$fail" = 0 ]
