# The raw store file and its WAL must not contain any subject, address,
# body word, file name or mailbox name of the corpus (DESIGN.md §2).
. "$(dirname "$0")/lib.sh"
new_store
mv_ import leakacct "$TOP/tests/corpus" --format eml --quiet
mv_ import leakacct "$TOP/tests/corpus" --format eml --mailbox "Secret Projects/Zanzibar Merger" --quiet
words="$TOP/tests/corpus/leak-words.txt"
[ "$(wc -l < "$words")" -ge 100 ] || fail "leak-words.txt has fewer than 100 entries"
# Keep the WAL: checkpointing would hide what sits in it.
found=0; checked=0
for f in "$MAILVAULT_STORE" "$MAILVAULT_STORE-wal"; do
	[ -f "$f" ] || continue
	while IFS= read -r w; do
		[ -n "$w" ] || continue
		checked=$((checked + 1))
		if grep -qaF -- "$w" "$f"; then
			echo "LEAK: '$w' is readable in $(basename "$f")"
			found=$((found + 1))
		fi
	done < "$words"
	for w in "Secret Projects" "Zanzibar Merger" leakacct; do
		if grep -qaF -- "$w" "$f"; then
			echo "LEAK: '$w' is readable in $(basename "$f")"
			found=$((found + 1))
		fi
	done
done
[ "$found" = 0 ] || fail "$found plaintext strings found in the store"
# The check must be able to fail: the corpus itself has the words.
grep -qaF -- "$(head -n 1 "$words")" "$TOP"/tests/corpus/*.eml || fail "leak words not in the corpus"
echo "checked $checked strings: none readable"
