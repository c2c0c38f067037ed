# A process killed with SIGKILL in the middle of an import leaves a store
# that passes check, and importing again finishes without a duplicate.
. "$(dirname "$0")/lib.sh"
new_store
N=${KILL_MESSAGES:-4000}
[ -n "${MAILVAULT_SANITIZED:-}" ] && N=1500
$GEN mbox "$N" "$TESTDIR/in.mbox" --seed 11
want=$(grep -c '^From ' "$TESTDIR/in.mbox")

# Kill when the store has grown by some amount, so the kill lands in the
# middle of the work whatever the machine's speed.
wal="$MAILVAULT_STORE-wal"
kills=0
for grow in 1 3 6 10; do
	before=$(stat -c %s "$MAILVAULT_STORE" 2>/dev/null || echo 0)
	mv_ import k "$TESTDIR/in.mbox" --quiet >/dev/null 2>&1 &
	pid=$!
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 2000 ]; do
		now=$(( $(stat -c %s "$MAILVAULT_STORE" 2>/dev/null || echo 0) + $(stat -c %s "$wal" 2>/dev/null || echo 0) ))
		[ "$now" -gt $((before + grow * 1000000)) ] && break
		sleep 0.01; i=$((i + 1))
	done
	if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
	wait "$pid" 2>/dev/null || true
	mv_ check --quiet || fail "check failed after a kill (+$grow MB)"
done
[ "$kills" -ge 2 ] || fail "only $kills imports were killed mid-way"
echo "killed $kills imports mid-way; every time the store passed check"
mv_ import k "$TESTDIR/in.mbox" --quiet
count=$(mv_ --json ls k | python3 -c 'import json,sys; print([m for m in json.load(sys.stdin) if m["name"]=="INBOX"][0]["messages"])')
[ "$count" = "$want" ] || fail "after resuming: $count messages, want $want"
mv_ export k "$TESTDIR/out.mbox" --mailbox INBOX
cmp "$TESTDIR/in.mbox" "$TESTDIR/out.mbox" || fail "resumed import differs from the input"
echo "resumed import complete: $count messages, no duplicate"
