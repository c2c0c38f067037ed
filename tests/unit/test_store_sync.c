/*
 * Unit tests for the sync state kept in the store (store/sync_state.c):
 * folder pairs and their sealed remote names, message identities and the
 * queries the engine's re-matching and move detection rely on, the POP3
 * UIDL list, and how all of it follows mailbox and account deletion.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"


static uint32_t
add_msg(struct fx *f, int64_t mbox, const char *text)
{
	uint32_t uid;

	ck_assert_int_eq(store_append_mem(f->st, mbox, NULL, text,
	    strlen(text), &uid), 0);
	return uid;
}

START_TEST(test_store_sync_folder_pairs_round_trip)
{
	struct fx f;
	struct store_sync_folder *v;
	size_t n;
	int64_t id, work;

	fx_setup(&f);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "Work", 0, &work),
	    0);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, f.inbox, "INBOX",
	    &id), 0);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, work,
	    "Secret Project", NULL), 0);
	ck_assert_int_eq(store_sync_folder_list(f.st, f.acct, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "INBOX");
	ck_assert_str_eq(v[1].name, "Secret Project");
	ck_assert_int_eq(v[1].mailbox, work);
	ck_assert_uint_eq(v[0].uidnext, 1);
	v[0].uidvalidity = 77;
	v[0].uidnext = 12;
	v[0].highestmodseq = 1ull << 40;
	v[0].local_modseq = 5;
	ck_assert_int_eq(store_sync_folder_set_state(f.st, &v[0]), 0);
	ck_assert_int_eq(store_sync_folder_set_name(f.st, v[1].id, "Renamed"),
	    0);
	store_sync_folder_list_free(&v, n);
	ck_assert_int_eq(store_sync_folder_list(f.st, f.acct, &v, &n), 0);
	ck_assert_uint_eq(v[0].uidvalidity, 77);
	ck_assert_uint_eq(v[0].uidnext, 12);
	ck_assert_uint_eq(v[0].highestmodseq, 1ull << 40);
	ck_assert_uint_eq(v[0].local_modseq, 5);
	ck_assert_str_eq(v[1].name, "Renamed");
	/* Deleting the local mailbox keeps the pair, without a mailbox. */
	ck_assert_int_eq(store_mailbox_delete(f.st, work), 0);
	store_sync_folder_list_free(&v, n);
	ck_assert_int_eq(store_sync_folder_list(f.st, f.acct, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[1].mailbox, 0);
	ck_assert_int_eq(store_sync_folder_delete(f.st, v[1].id), 0);
	store_sync_folder_list_free(&v, n);
	ck_assert_int_eq(store_sync_folder_list(f.st, f.acct, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	store_sync_folder_list_free(&v, n);
	ck_assert_ptr_null(v);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_sync_folder_name_is_sealed)
{
	struct fx f;
	FILE *fp;
	char *buf;
	long len;

	fx_setup(&f);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, f.inbox,
	    "Zanzibar-Plans", NULL), 0);
	ck_assert_int_eq(store_sync_pop3_put(f.st, f.acct, "UIDL-Quokka", 1),
	    0);
	store_close(&f.st);
	buf = xasprintf("cat '%s' > '%s/all'; cat '%s-wal' >> '%s/all' "
	    "2>/dev/null; true", f.path, f.dir, f.path, f.dir);
	ck_assert_int_eq(system(buf), 0);
	free(buf);
	buf = xasprintf("%s/all", f.dir);
	fp = fopen(buf, "rb");
	free(buf);
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)len + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	ck_assert_ptr_null(memmem(buf, (size_t)len, "Zanzibar", 8));
	ck_assert_ptr_null(memmem(buf, (size_t)len, "Quokka", 6));
	free(buf);
	fx_open(&f);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_sync_identities_and_lookups)
{
	struct fx f;
	struct store_sync_msg m, got, *v;
	uint32_t u1, u2, u3, *ruids, uid;
	struct store_msg lm;
	size_t n;
	int64_t folder;

	fx_setup(&f);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, f.inbox, "INBOX",
	    &folder), 0);
	u1 = add_msg(&f, f.inbox, "Subject: 1\r\n\r\none\r\n");
	u2 = add_msg(&f, f.inbox, "Subject: 2\r\n\r\ntwo\r\n");
	u3 = add_msg(&f, f.inbox, "Subject: 3\r\n\r\nthree\r\n");
	memset(&m, 0, sizeof(m));
	m.mailbox = f.inbox;
	m.folder = folder;
	m.ruidvalidity = 9;
	m.uid = u1;
	m.ruid = 101;
	m.flags = STORE_F_SEEN;
	m.nkw = 2;
	m.kw[0] = 3;
	m.kw[1] = 7;
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, u1, &lm), 0);
	m.content = lm.content;
	ck_assert_int_eq(store_sync_msg_put(f.st, &m), 0);
	m.uid = u2;
	m.ruid = 102;
	m.nkw = 0;
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, u2, &lm), 0);
	m.content = lm.content;
	ck_assert_int_eq(store_sync_msg_put(f.st, &m), 0);
	/* u3: an APPEND in flight, no remote UID yet. */
	m.uid = u3;
	m.ruid = 0;
	m.state = STORE_SYNC_APPENDING;
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, u3, &lm), 0);
	m.content = lm.content;
	ck_assert_int_eq(store_sync_msg_put(f.st, &m), 0);

	ck_assert_int_eq(store_sync_msg_get(f.st, f.inbox, u1, &got), 0);
	ck_assert_uint_eq(got.ruid, 101);
	ck_assert_uint_eq(got.flags, STORE_F_SEEN);
	ck_assert_uint_eq(got.nkw, 2);
	ck_assert_uint_eq(got.kw[1], 7);
	ck_assert_int_eq(store_sync_msg_find_remote(f.st, folder, 9, 102,
	    &got), 0);
	ck_assert_uint_eq(got.uid, u2);
	ck_assert_int_eq(store_sync_msg_find_remote(f.st, folder, 8, 102,
	    &got), STORE_ENOENT);
	ck_assert_int_eq(store_sync_msg_ruids(f.st, folder, 9, &ruids, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ruids[0], 101);
	free(ruids);
	ck_assert_int_eq(store_sync_msg_count(f.st, folder, 9, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(store_sync_msg_unsettled(f.st, folder, 9, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].uid, u3);
	ck_assert_int_eq(v[0].state, STORE_SYNC_APPENDING);
	free(v);
	/* Under a new UIDVALIDITY everything is unsettled. */
	ck_assert_int_eq(store_sync_msg_unsettled(f.st, folder, 10, &v, &n),
	    0);
	ck_assert_uint_eq(n, 3);
	free(v);
	/* unbound: u3's content has only an in-flight identity. */
	ck_assert_int_eq(store_sync_msg_unbound(f.st, f.inbox, m.content, 9,
	    &uid), 0);
	ck_assert_uint_eq(uid, u3);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, u1, &lm), 0);
	ck_assert_int_eq(store_sync_msg_unbound(f.st, f.inbox, lm.content, 9,
	    &uid), STORE_ENOENT);
	ck_assert_int_eq(store_sync_msg_unbound(f.st, f.inbox, lm.content, 10,
	    &uid), 0);
	/* by_content finds the identity even after the message is gone. */
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, &u1, 1), 0);
	ck_assert_int_eq(store_sync_msg_by_content(f.st, f.acct, lm.content,
	    &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].uid, u1);
	free(v);
	/* drop_stale removes bound rows of other UIDVALIDITYs only. */
	ck_assert_int_eq(store_sync_msg_drop_stale(f.st, folder, 10), 0);
	ck_assert_int_eq(store_sync_msg_get(f.st, f.inbox, u2, &got),
	    STORE_ENOENT);
	ck_assert_int_eq(store_sync_msg_get(f.st, f.inbox, u3, &got), 0);
	ck_assert_int_eq(store_sync_msg_delete(f.st, f.inbox, u3), 0);
	ck_assert_int_eq(store_sync_msg_get(f.st, f.inbox, u3, &got),
	    STORE_ENOENT);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_sync_identity_committed_with_caller_txn)
{
	struct fx f;
	struct store_sync_msg m, got;
	int64_t folder;
	uint32_t uid;

	fx_setup(&f);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, f.inbox, "INBOX",
	    &folder), 0);
	ck_assert_int_eq(store_txn_begin(f.st), 0);
	uid = add_msg(&f, f.inbox, "Subject: x\r\n\r\nx\r\n");
	memset(&m, 0, sizeof(m));
	m.mailbox = f.inbox;
	m.uid = uid;
	m.folder = folder;
	m.ruidvalidity = 1;
	m.ruid = 5;
	ck_assert_int_eq(store_sync_msg_put(f.st, &m), 0);
	store_txn_rollback(f.st);
	ck_assert_int_eq(store_sync_msg_get(f.st, f.inbox, uid, &got),
	    STORE_ENOENT);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_sync_pop3_uidls)
{
	struct fx f;
	const char *keep[] = { "b", "c" };
	int64_t t;

	fx_setup(&f);
	ck_assert_int_eq(store_sync_pop3_get(f.st, f.acct, "a", &t),
	    STORE_ENOENT);
	ck_assert_int_eq(store_sync_pop3_put(f.st, f.acct, "a", 100), 0);
	ck_assert_int_eq(store_sync_pop3_put(f.st, f.acct, "b", 200), 0);
	ck_assert_int_eq(store_sync_pop3_get(f.st, f.acct, "a", &t), 0);
	ck_assert_int_eq(t, 100);
	ck_assert_int_eq(store_sync_pop3_prune(f.st, f.acct, keep, 2), 0);
	ck_assert_int_eq(store_sync_pop3_get(f.st, f.acct, "a", &t),
	    STORE_ENOENT);
	ck_assert_int_eq(store_sync_pop3_get(f.st, f.acct, "b", &t), 0);
	ck_assert_int_eq(t, 200);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_sync_state_goes_with_the_account)
{
	struct fx f;
	struct store_sync_folder *v;
	size_t n;
	int64_t t;

	fx_setup(&f);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, f.inbox, "INBOX",
	    NULL), 0);
	ck_assert_int_eq(store_sync_pop3_put(f.st, f.acct, "a", 1), 0);
	ck_assert_int_eq(store_account_delete(f.st, f.acct), 0);
	ck_assert_int_eq(store_sync_folder_list(f.st, f.acct, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	store_sync_folder_list_free(&v, n);
	ck_assert_int_eq(store_sync_pop3_get(f.st, f.acct, "a", &t),
	    STORE_ENOENT);
	fx_teardown(&f);
}
END_TEST

/*
 * Refused messages are counted in sync_refused, which schema 1 stores did
 * not have: opening one migrates it, and the counts work at once.
 */
START_TEST(test_store_sync_refused_after_schema_1_migration)
{
	struct fx f;
	uint32_t *v = NULL;
	unsigned tries = 0;
	size_t n = 0;
	int64_t folder;

	fx_setup(&f);
	ck_assert_int_eq(store_sync_folder_add(f.st, f.acct, f.inbox, "INBOX",
	    &folder), 0);
	store_close(&f.st);
	poke(&f, "DROP TABLE sync_refused; DROP TABLE summary; "
	    "PRAGMA user_version = 1");
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'sync_refused'"), 0);
	fx_open(&f);
	ck_assert_int_eq(store_sync_refused_note(f.st, folder, 7, 42, &tries),
	    0);
	ck_assert_uint_eq(tries, 1);
	ck_assert_int_eq(store_sync_refused_note(f.st, folder, 7, 42, &tries),
	    0);
	ck_assert_uint_eq(tries, 2);
	ck_assert_int_eq(store_sync_refused_pending(f.st, folder, 7, 3, &v,
	    &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0], 42);
	free(v);
	ck_assert_int_eq(store_sync_refused_pending(f.st, folder, 7, 2, &v,
	    &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(store_sync_refused_forget(f.st, folder, 7, 42), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM sync_refused"), 0);
	fx_teardown(&f);
}
END_TEST

static Suite *
store_sync_suite(void)
{
	Suite *s = suite_create("store_sync");
	TCase *tc = tcase_create("state");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_sync_folder_pairs_round_trip);
	tcase_add_test(tc, test_store_sync_folder_name_is_sealed);
	tcase_add_test(tc, test_store_sync_identities_and_lookups);
	tcase_add_test(tc, test_store_sync_identity_committed_with_caller_txn);
	tcase_add_test(tc, test_store_sync_pop3_uidls);
	tcase_add_test(tc, test_store_sync_state_goes_with_the_account);
	tcase_add_test(tc, test_store_sync_refused_after_schema_1_migration);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_sync_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
