/*
 * Unit tests for store/summary.c: the per-content summaries kept packed
 * in blocks. A summary is written with the commit that stores its new
 * content and dropped with a rollback; it reads back what the MIME tree
 * gives; an expunged content answers STORE_ENOENT; a record another
 * handle adds to a cached block is found in the next snapshot; stores of
 * schema 1 are migrated and their old contents have no summary; a block
 * that is tampered with is caught by the reader and by the check.
 *
 * Every test makes its own store in a fresh temporary folder with the
 * cheapest KDF parameters (STORE_KDF_MIN).
 */
#include <check.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/imap_envelope.h"
#include "lib/mime.h"
#include "lib/msg_summary.h"
#include "lib/util.h"
#include "store/store.h"
#include "store/store_int.h"
#include "tests/unit/store_fixture.h"

#define PASS	FX_PASS

/* A small message numbered n (distinct bytes, so distinct contents). */
static char *
message(unsigned n)
{
	return xasprintf("Date: Mon, 4 Mar 2019 10:%02u:00 +0000\r\n"
	    "From: Sender %u <s%u@example.org>\r\n"
	    "To: rcpt@example.org\r\n"
	    "Subject: message number %u\r\n"
	    "\r\n"
	    "body %u\r\n", n % 60, n, n, n, n);
}

static uint32_t
append(struct fx *f, const char *msg, size_t len)
{
	uint32_t uid = 0;
	int rc = store_append_mem(f->st, f->inbox, NULL, msg, len, &uid);

	ck_assert_msg(rc == 0, "append: %s", store_errmsg(f->st));
	return uid;
}

static uint32_t
append_n(struct fx *f, unsigned n)
{
	char *m = message(n);
	uint32_t uid = append(f, m, strlen(m));

	free(m);
	return uid;
}

static int64_t
content_of(struct fx *f, uint32_t uid)
{
	struct store_msg m;

	ck_assert_int_eq(store_msg_get(f->st, f->inbox, uid, &m), 0);
	return m.content;
}

/* The summary of content says what the MIME tree says. */
static void
assert_summary_like_mime(struct store *st, int64_t content)
{
	struct msg_summary sum;
	struct mime_part *root = NULL;
	struct buf env;
	int rc;

	rc = store_content_summary(st, content, &sum);
	ck_assert_msg(rc == 0, "content %lld: %d %s", (long long)content, rc,
	    store_errmsg(st));
	ck_assert_int_eq(store_content_envelope(st, content, &root), 0);
	buf_init(&env, 1 << 20);
	ck_assert_int_eq(imap_envelope_of(&env, root), 0);
	ck_assert_uint_eq(sum.len[MSG_SUMMARY_ENVELOPE], env.len);
	ck_assert_mem_eq(sum.v[MSG_SUMMARY_ENVELOPE], env.data, env.len);
	ck_assert_str_eq(sum.v[MSG_SUMMARY_DATE],
	    root->env[MIME_ENV_DATE] != NULL ? root->env[MIME_ENV_DATE] : "");
	buf_free(&env);
	mime_part_free(&root);
}

START_TEST(test_store_summary_written_at_ingest_reads_like_mime)
{
	struct fx f;
	uint32_t uid;
	unsigned i;

	fx_setup(&f);
	for (i = 0; i < 10; i++) {
		uid = append_n(&f, i);
		assert_summary_like_mime(f.st, content_of(&f, uid));
	}
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM summary"), 1);
	fx_teardown(&f);
}
END_TEST

/* Every corpus message that keeps its header gets a summary equal to
 * what its MIME tree gives, across block boundaries. */
START_TEST(test_store_summary_corpus)
{
	DIR *dir = opendir("tests/corpus");
	struct dirent *de;
	struct fx f;
	char path[512], *data;
	size_t n, nsum = 0;
	struct msg_summary sum;
	uint32_t uid;
	int64_t c;
	FILE *fp;
	int rc;

	fx_setup(&f);
	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strstr(de->d_name, ".eml") == NULL)
			continue;
		snprintf(path, sizeof(path), "tests/corpus/%s", de->d_name);
		ck_assert_ptr_nonnull(fp = fopen(path, "rb"));
		data = xmalloc(4 << 20);
		n = fread(data, 1, 4 << 20, fp);
		fclose(fp);
		uid = append(&f, data, n);
		free(data);
		c = content_of(&f, uid);
		rc = store_content_summary(f.st, c, &sum);
		ck_assert_msg(rc == 0 || rc == 1, "%s: %d", de->d_name, rc);
		if (rc == 0) {
			assert_summary_like_mime(f.st, c);
			nsum++;
		}
	}
	closedir(dir);
	ck_assert_uint_ge(nsum, 50);
	fx_teardown(&f);
}
END_TEST

/* A batch of 300 in one transaction: three blocks, each written once;
 * a rolled back batch leaves no record behind. */
START_TEST(test_store_summary_batch_commit_and_rollback)
{
	struct fx f;
	struct msg_summary sum;
	uint32_t uid, first = 0;
	unsigned i;

	fx_setup(&f);
	ck_assert_int_eq(store_txn_begin(f.st), 0);
	for (i = 0; i < 300; i++) {
		uid = append_n(&f, i);
		if (first == 0)
			first = uid;
	}
	/* not committed yet: nothing written, readers fall back */
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM summary"), 0);
	ck_assert_int_eq(store_content_summary(f.st, content_of(&f, first),
	    &sum), 1);
	ck_assert_int_eq(store_txn_commit(f.st), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM summary"), 3);
	store_snapshot_begin(f.st);
	for (uid = first; uid < first + 300; uid++)
		assert_summary_like_mime(f.st, content_of(&f, uid));
	store_snapshot_end(f.st);

	ck_assert_int_eq(store_txn_begin(f.st), 0);
	for (i = 1000; i < 1200; i++)
		append_n(&f, i);
	store_txn_rollback(f.st);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM summary"), 3);
	/* the next commit does not bring the dropped records back */
	uid = append_n(&f, 5000);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM summary WHERE block "
	    "> 3"), 0);
	assert_summary_like_mime(f.st, content_of(&f, uid));
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_summary_expunged_content_is_enoent)
{
	struct fx f;
	struct msg_summary sum;
	uint32_t uid, keep;
	int64_t c;

	fx_setup(&f);
	keep = append_n(&f, 1);
	uid = append_n(&f, 2);
	c = content_of(&f, uid);
	store_snapshot_begin(f.st);
	ck_assert_int_eq(store_content_summary(f.st, c, &sum), 0);
	store_snapshot_end(f.st);
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, &uid, 1), 0);
	/* in a new snapshot, and outside one */
	store_snapshot_begin(f.st);
	ck_assert_int_eq(store_content_summary(f.st, c, &sum), STORE_ENOENT);
	ck_assert_int_eq(store_content_summary(f.st, content_of(&f, keep),
	    &sum), 0);
	store_snapshot_end(f.st);
	ck_assert_int_eq(store_content_summary(f.st, c, &sum), STORE_ENOENT);
	ck_assert_int_eq(store_content_summary(f.st, 999999, &sum),
	    STORE_ENOENT);
	fx_teardown(&f);
}
END_TEST

/* Handle A caches a block; B adds a record to it; A's next snapshot
 * finds it (and an absent one is not trusted across snapshots). */
START_TEST(test_store_summary_record_added_by_another_handle)
{
	struct fx f;
	struct store *b;
	struct msg_summary sum;
	uint32_t uid;
	int64_t c;

	fx_setup(&f);
	uid = append_n(&f, 1);
	store_snapshot_begin(f.st);
	ck_assert_int_eq(store_content_summary(f.st, content_of(&f, uid),
	    &sum), 0);
	store_snapshot_end(f.st);
	b = fx_store_at(f.path);
	ck_assert_int_eq(store_append_mem(b, f.inbox, NULL, "Subject: two\r\n"
	    "\r\nx\r\n", 19, &uid), 0);
	store_close(&b);
	c = content_of(&f, uid);
	store_snapshot_begin(f.st);
	ck_assert_int_eq(store_content_summary(f.st, c, &sum), 0);
	ck_assert_ptr_nonnull(strstr(sum.v[MSG_SUMMARY_ENVELOPE], "\"two\""));
	store_snapshot_end(f.st);
	fx_teardown(&f);
}
END_TEST

/* More blocks than the cache holds, read back and forth. */
START_TEST(test_store_summary_cache_eviction)
{
	struct fx f;
	uint32_t uid, first = 0;
	unsigned i, round;

	fx_setup(&f);
	ck_assert_int_eq(store_txn_begin(f.st), 0);
	for (i = 0; i < (STORE_SUMMARY_CACHE + 2) * STORE_SUMMARY_SLOTS; i++) {
		uid = append_n(&f, i);
		if (first == 0)
			first = uid;
	}
	ck_assert_int_eq(store_txn_commit(f.st), 0);
	for (round = 0; round < 2; round++) {
		store_snapshot_begin(f.st);
		for (uid = first; uid < first + i; uid += 37)
			assert_summary_like_mime(f.st, content_of(&f, uid));
		for (uid = first + i - 1; uid >= first + 64; uid -= 64)
			assert_summary_like_mime(f.st, content_of(&f, uid));
		store_snapshot_end(f.st);
	}
	fx_teardown(&f);
}
END_TEST

/* A message of several chunks (streamed) and a duplicate of it. */
START_TEST(test_store_summary_streamed_and_duplicate)
{
	struct fx f;
	struct buf m;
	struct msg_summary sum;
	uint32_t a, b;
	int i;

	fx_setup(&f);
	buf_init(&m, 1 << 20);
	ck_assert_int_eq(buf_adds(&m, "From: big@example.org\r\nSubject: "
	    "large\r\n\r\n"), 0);
	for (i = 0; i < 3000; i++)
		ck_assert_int_eq(buf_adds(&m, "a line of text, long enough "
		    "to fill chunks\r\n"), 0);
	a = append(&f, m.data, m.len);
	b = append(&f, m.data, m.len);
	ck_assert_int_eq(content_of(&f, a), content_of(&f, b));
	assert_summary_like_mime(f.st, content_of(&f, a));
	ck_assert_int_eq(store_content_summary(f.st, content_of(&f, b), &sum),
	    0);
	buf_free(&m);
	fx_teardown(&f);
}
END_TEST

/* A header too large to keep: no summary; readers fall back. */
START_TEST(test_store_summary_none_for_huge_header)
{
	struct fx f;
	struct buf m;
	struct msg_summary sum;
	uint32_t uid;
	int i;

	fx_setup(&f);
	buf_init(&m, 1 << 20);
	ck_assert_int_eq(buf_adds(&m, "From: a@example.org\r\n"), 0);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(buf_printf(&m, "X-Filler-%d: %s\r\n", i,
		    "some text to make the header larger than is kept"), 0);
	ck_assert_int_eq(buf_adds(&m, "\r\nbody\r\n"), 0);
	uid = append(&f, m.data, m.len);
	ck_assert_int_eq(store_content_summary(f.st, content_of(&f, uid),
	    &sum), 1);
	buf_free(&m);
	fx_teardown(&f);
}
END_TEST

/* Schema 1 stores are migrated on open; their contents have no summary,
 * new ones do. */
START_TEST(test_store_summary_migrates_schema_1)
{
	struct fx f;
	struct msg_summary sum;
	uint32_t old, neu;

	fx_setup(&f);
	old = append_n(&f, 1);
	store_close(&f.st);
	poke(&f, "DROP TABLE summary; PRAGMA user_version = 1");
	f.st = fx_store_at(f.path);
	ck_assert_int_eq(count(&f, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_content_summary(f.st, content_of(&f, old),
	    &sum), 1);
	neu = append_n(&f, 2);
	assert_summary_like_mime(f.st, content_of(&f, neu));
	fx_teardown(&f);
}
END_TEST

/* A block moved to another row, or flipped, does not open: the reader
 * says the store is damaged and the check counts it. */
START_TEST(test_store_summary_tamper_detected)
{
	struct fx f;
	struct msg_summary sum;
	uint64_t bad = 0;
	uint32_t uid;
	int64_t c;

	fx_setup(&f);
	uid = append_n(&f, 1);
	c = content_of(&f, uid);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), 0);
	store_close(&f.st);
	poke(&f, "UPDATE summary SET block = block + 1");
	poke(&f, "INSERT INTO summary SELECT block - 1, data FROM summary");
	f.st = fx_store_at(f.path);
	ck_assert_int_eq(store_content_summary(f.st, c, &sum), 0);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), STORE_ECORRUPT);
	ck_assert_uint_eq(bad, 1);
	store_close(&f.st);
	poke(&f, "UPDATE summary SET data = randomblob(length(data)) "
	    "WHERE block = 0");
	f.st = fx_store_at(f.path);
	ck_assert_int_eq(store_content_summary(f.st, c, &sum), STORE_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(store_errmsg(f.st), "mailvault check"));
	fx_teardown(&f);
}
END_TEST

static Suite *
store_summary_suite(void)
{
	Suite *s = suite_create("store_summary");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_summary_written_at_ingest_reads_like_mime);
	tcase_add_test(tc, test_store_summary_corpus);
	tcase_add_test(tc, test_store_summary_batch_commit_and_rollback);
	tcase_add_test(tc, test_store_summary_expunged_content_is_enoent);
	tcase_add_test(tc, test_store_summary_record_added_by_another_handle);
	tcase_add_test(tc, test_store_summary_cache_eviction);
	tcase_add_test(tc, test_store_summary_streamed_and_duplicate);
	tcase_add_test(tc, test_store_summary_none_for_huge_header);
	tcase_add_test(tc, test_store_summary_migrates_schema_1);
	tcase_add_test(tc, test_store_summary_tamper_detected);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_summary_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
