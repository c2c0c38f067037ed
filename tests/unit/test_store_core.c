/*
 * Unit tests for store/: keys and sealing, the IMAP numbering rules,
 * content dedup and streaming, flags, mailboxes, the change feed and the
 * integrity check. Tamper tests poke the SQLite file directly through the
 * SQLite API, as an attacker with the file would.
 *
 * Every test makes its own store in a fresh temporary folder with the
 * cheapest KDF parameters (STORE_KDF_MIN).
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/store.h"
#include "store/store_int.h"
#include "tests/unit/store_fixture.h"

#define PASS	FX_PASS

static const char MSG1[] =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: lunch on thursday\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n";

static const char MSG2[] =
    "From: Carol <carol@example.org>\r\n"
    "Subject: the quarterly numbers\r\n"
    "\r\n"
    "Attached.\r\n";

static uint32_t
append(struct fx *f, int64_t mbox, const char *msg)
{
	uint32_t uid = 0;
	int rc = store_append_mem(f->st, mbox, NULL, msg, strlen(msg), &uid);

	ck_assert_msg(rc == 0, "append: %s", store_errmsg(f->st));
	return uid;
}

static int64_t
mkbox(struct fx *f, const char *name)
{
	int64_t id = 0;
	int rc = store_mailbox_create(f->st, f->acct, name, 0, &id);

	ck_assert_msg(rc == 0, "create %s: %s", name, store_errmsg(f->st));
	return id;
}

/* Read a whole message into a new buffer. */
static char *
slurp(struct fx *f, int64_t content, size_t *len_r)
{
	struct store_reader *rd;
	char *buf;
	size_t len = 0;
	ssize_t n;

	ck_assert_int_eq(store_reader_open(f->st, content, &rd), 0);
	buf = xmalloc(store_reader_size(rd) + 1);
	while ((n = store_reader_read(rd, buf + len, 7777)) > 0)
		len += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(len, store_reader_size(rd));
	buf[len] = '\0';
	store_reader_close(&rd);
	*len_r = len;
	return buf;
}

/* Deterministic bytes that do not compress. */
static void
fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

/* ---- opening and keys ----------------------------------------------------- */

START_TEST(test_store_create_open_and_file_modes)
{
	struct fx f;
	struct stat sb;
	char err[STORE_ERRMSG_MAX], *dir, *pw;
	size_t i;

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(stat(f.path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	dir = xasprintf("%s/sub", f.dir);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	free(dir);
	ck_assert_int_eq(store_create(f.path, PASS, strlen(PASS), STORE_KDF_MIN,
	    err, sizeof(err)), STORE_EEXIST);
	ck_assert_int_eq(store_local_password(f.st, &pw), 0);
	ck_assert_uint_eq(strlen(pw), 20);
	for (i = 0; i < 20; i++)
		ck_assert_msg((pw[i] >= 'a' && pw[i] <= 'z') ||
		    (pw[i] >= 'A' && pw[i] <= 'Z') ||
		    (pw[i] >= '0' && pw[i] <= '9'), "bad char in %s", pw);
	store_secret_free(&pw);
	ck_assert_ptr_null(pw);
	ck_assert_str_eq(store_path(f.st), f.path);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_missing_store_says_init)
{
	struct store *st = NULL;
	char err[STORE_ERRMSG_MAX];

	ck_assert_int_eq(store_open("/tmp/does-not-exist-mv/store.db", PASS,
	    strlen(PASS), &st, err, sizeof(err)), STORE_ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "mailvault init"));
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(test_store_wrong_passphrase_is_ebadpass)
{
	struct fx f;
	struct store *st = NULL;
	char err[STORE_ERRMSG_MAX];

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(store_open(f.path, "wrong", 5, &st, err, sizeof(err)),
	    STORE_EBADPASS);
	ck_assert_str_eq(err, "the passphrase is wrong");
	ck_assert_ptr_null(st);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_newer_schema_is_refused)
{
	struct fx f;
	struct store *st = NULL;
	char err[STORE_ERRMSG_MAX], *want;

	fx_setup_at(&f, "sub/store.db");
	store_close(&f.st);
	poke(&f, "PRAGMA user_version = 7");
	ck_assert_int_eq(store_open(f.path, PASS, strlen(PASS), &st, err,
	    sizeof(err)), STORE_ECORRUPT);
	want = xasprintf("newer mailvault (schema 7, this one knows %d)",
	    STORE_SCHEMA_VERSION);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	free(want);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_passphrase_change_rewraps_only)
{
	struct fx f;
	struct store *st = NULL;
	struct store_msg m;
	char err[STORE_ERRMSG_MAX], *got;
	size_t len;
	uint32_t uid;

	fx_setup_at(&f, "sub/store.db");
	uid = append(&f, f.inbox, MSG1);
	ck_assert_int_eq(store_change_passphrase(f.st, "new pass", 8,
	    STORE_KDF_MIN), 0);
	store_close(&f.st);
	ck_assert_int_eq(store_open(f.path, PASS, strlen(PASS), &st, err,
	    sizeof(err)), STORE_EBADPASS);
	ck_assert_int_eq(store_open(f.path, "new pass", 8, &f.st, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uid, &m), 0);
	got = slurp(&f, m.content, &len);
	ck_assert_str_eq(got, MSG1);
	free(got);
	fx_teardown(&f);
}
END_TEST

/* ---- sealing ---------------------------------------------------------------- */

START_TEST(test_store_seal_wrong_key_or_flipped_bit_fails)
{
	struct store_keyslot s1, s2;
	struct store_keys *k1, *k2;
	unsigned char ad[STORE_AD_MAX], ct[64 + STORE_SEAL_OVERHEAD], pt[64];
	size_t adlen, i;
	const char msg[] = "a secret mailbox name";

	ck_assert_int_eq(store_crypt_init(), 0);
	s1.id = s2.id = 1;
	ck_assert_int_eq(store_keys_create("a", 1, STORE_KDF_MIN, &s1, &k1,
	    NULL, 0), 0);
	ck_assert_int_eq(store_keys_create("a", 1, STORE_KDF_MIN, &s2, &k2,
	    NULL, 0), 0);
	adlen = store_ad(ad, "mailbox", "name", "%d", 1);
	store_seal(k1, ad, adlen, msg, sizeof(msg), ct);
	ck_assert_int_eq(store_unseal(k1, ad, adlen, ct,
	    sizeof(msg) + STORE_SEAL_OVERHEAD, pt), 0);
	ck_assert_str_eq((char *)pt, msg);
	ck_assert_int_eq(store_unseal(k2, ad, adlen, ct,
	    sizeof(msg) + STORE_SEAL_OVERHEAD, pt), -1);
	for (i = 0; i < (sizeof(msg) + STORE_SEAL_OVERHEAD) * 8; i++) {
		ct[i / 8] ^= (unsigned char)(1 << (i % 8));
		ck_assert_int_eq(store_unseal(k1, ad, adlen, ct,
		    sizeof(msg) + STORE_SEAL_OVERHEAD, pt), -1);
		ct[i / 8] ^= (unsigned char)(1 << (i % 8));
	}
	/* Another row's AD. */
	adlen = store_ad(ad, "mailbox", "name", "%d", 2);
	ck_assert_int_eq(store_unseal(k1, ad, adlen, ct,
	    sizeof(msg) + STORE_SEAL_OVERHEAD, pt), -1);
	/* The wrapped key opens only with its passphrase. */
	store_keys_free(&k2);
	ck_assert_int_eq(store_keys_unlock(&s1, "b", 1, &k2, NULL, 0),
	    STORE_EBADPASS);
	ck_assert_int_eq(store_keys_unlock(&s1, "a", 1, &k2, NULL, 0), 0);
	adlen = store_ad(ad, "mailbox", "name", "%d", 1);
	ck_assert_int_eq(store_unseal(k2, ad, adlen, ct,
	    sizeof(msg) + STORE_SEAL_OVERHEAD, pt), 0);
	store_keys_free(&k1);
	store_keys_free(&k2);
	ck_assert_ptr_null(k1);
}
END_TEST

START_TEST(test_store_sealed_value_moved_to_another_row_fails)
{
	static const char *const keys[] = { "a", "b", "local-password" };
	struct fx f;
	struct store_mailbox *list;
	uint64_t bad = 0;
	size_t n, i;
	char *v;
	int rc;

	fx_setup_at(&f, "sub/store.db");
	mkbox(&f, "Archive");
	mkbox(&f, "Sent");
	ck_assert_int_eq(store_config_set(f.st, "a", "one", 3), 0);
	ck_assert_int_eq(store_config_set(f.st, "b", "two", 3), 0);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), 0);
	store_close(&f.st);
	/* Sent's sealed name copied onto Archive's row. */
	poke(&f, "UPDATE mailbox SET name = (SELECT name FROM mailbox "
	    "WHERE id = (SELECT max(id) FROM mailbox)) WHERE id = "
	    "(SELECT max(id) - 1 FROM mailbox)");
	/* And one config value onto another key's row. */
	poke(&f, "UPDATE config SET value = (SELECT value FROM config "
	    "ORDER BY key_hash LIMIT 1) WHERE key_hash = (SELECT key_hash "
	    "FROM config ORDER BY key_hash DESC LIMIT 1)");
	fx_open(&f);
	ck_assert_int_eq(store_mailbox_list(f.st, f.acct, 0, &list, &n),
	    STORE_ECORRUPT);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), STORE_ECORRUPT);
	ck_assert_uint_eq(bad, 2);
	/* One of a, b, local-password no longer opens. */
	n = 0;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		rc = store_config_get(f.st, keys[i], &v, NULL);
		if (rc == 0)
			free(v);
		else
			ck_assert_int_eq(rc, STORE_ECORRUPT);
		n += rc != 0;
	}
	ck_assert_uint_eq(n, 1);
	fx_teardown(&f);
}
END_TEST

/* Read a file whole (the store, its WAL). */
static char *
read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;

	*len_r = 0;
	if (fp == NULL)
		return NULL;
	buf = xmalloc(1 << 16);
	while ((n = fread(buf + len, 1, 1 << 16, fp)) > 0) {
		len += n;
		buf = xrealloc(buf, len + (1 << 16));
	}
	fclose(fp);
	*len_r = len;
	return buf;
}

START_TEST(test_store_file_holds_no_plaintext)
{
	static const char *const words[] = { "lunch on thursday",
	    "alice@example.org", "Shall we meet", "Secret Projects",
	    "me@example.org", "imap.example.org", "$Important" };
	const char *kw[] = { "$Important" };
	struct store_append_opts o;
	char *files[2], *buf;
	size_t len, i, j;
	uint32_t uid;
	struct fx f;

	fx_setup_at(&f, "sub/store.db");
	memset(&o, 0, sizeof(o));
	o.keywords = kw;
	o.nkeywords = 1;
	ck_assert_int_eq(store_append_mem(f.st, mkbox(&f, "Secret Projects"),
	    &o, MSG1, strlen(MSG1), &uid), 0);
	ck_assert_int_eq(store_account_set(f.st, f.acct, "host",
	    "imap.example.org", 16), 0);
	files[0] = f.path;
	files[1] = xasprintf("%s-wal", f.path);
	for (i = 0; i < 2; i++) {
		buf = read_file(files[i], &len);
		for (j = 0; buf != NULL && j < ARRAY_SIZE(words); j++)
			ck_assert_msg(memmem(buf, len, words[j],
			    strlen(words[j])) == NULL, "'%s' in %s", words[j],
			    files[i]);
		free(buf);
	}
	free(files[1]);
	fx_teardown(&f);
}
END_TEST

/* ---- numbering ---------------------------------------------------------------- */

START_TEST(test_store_uid_never_reused_after_expunge_and_reopen)
{
	struct fx f;
	struct store_mailbox mb;
	struct store_msg *v;
	uint32_t uids[3], top;
	size_t n;

	fx_setup_at(&f, "sub/store.db");
	uids[0] = append(&f, f.inbox, MSG1);
	uids[1] = append(&f, f.inbox, MSG2);
	uids[2] = append(&f, f.inbox, "Subject: three\r\n\r\n3\r\n");
	ck_assert_uint_eq(uids[0], 1);
	ck_assert_uint_eq(uids[1], 2);
	ck_assert_uint_eq(uids[2], 3);
	ck_assert_int_eq(store_msg_list(f.st, f.inbox, 0, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(v[0].modseq < v[1].modseq && v[1].modseq < v[2].modseq);
	free(v);
	top = 3;
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, &top, 1), 0);
	fx_reopen(&f);
	ck_assert_uint_eq(append(&f, f.inbox, MSG1), 4);
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_uint_eq(mb.uidnext, 5);
	ck_assert_uint_eq(mb.messages, 3);
	ck_assert_uint_eq(mb.unseen, 3);
	ck_assert_str_eq(mb.name, "INBOX");
	store_mailbox_clear(&mb);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_highestmodseq_bumped_by_every_change)
{
	struct fx f;
	struct store_mailbox mb;
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_F_SEEN, NULL, 0, 0 };
	uint64_t last;
	uint32_t uid, nu;
	int64_t other;

	fx_setup_at(&f, "sub/store.db");
	other = mkbox(&f, "Other");
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_uint_ge(mb.highestmodseq, 1);
	last = mb.highestmodseq;
	store_mailbox_clear(&mb);
	uid = append(&f, f.inbox, MSG1);
#define BUMPED(box) do { \
	ck_assert_int_eq(store_mailbox_status(f.st, box, &mb), 0); \
	ck_assert_uint_gt(mb.highestmodseq, last); \
	last = mb.highestmodseq; store_mailbox_clear(&mb); } while (0)
	BUMPED(f.inbox);
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, &uid, 1, &ch, NULL,
	    NULL, NULL, NULL), 0);
	BUMPED(f.inbox);
	/* A no-op change does not bump. */
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, &uid, 1, &ch, NULL,
	    NULL, NULL, NULL), 0);
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_uint_eq(mb.highestmodseq, last);
	store_mailbox_clear(&mb);
	last = 0;
	ck_assert_int_eq(store_msg_copy(f.st, f.inbox, &uid, 1, other, &nu), 0);
	BUMPED(other);
	last = 0;
	BUMPED(f.inbox);
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, &uid, 1), 0);
	BUMPED(f.inbox);
#undef BUMPED
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_uidvalidity_differs_for_recreated_mailbox)
{
	struct fx f;
	struct store_mailbox a, b;
	int64_t id;

	fx_setup_at(&f, "sub/store.db");
	id = mkbox(&f, "Lists");
	ck_assert_int_eq(store_mailbox_status(f.st, id, &a), 0);
	ck_assert_int_eq(store_mailbox_delete(f.st, id), 0);
	ck_assert_int_eq(store_mailbox_status(f.st, id, &b), STORE_ENOENT);
	id = mkbox(&f, "Lists");
	ck_assert_int_eq(store_mailbox_status(f.st, id, &b), 0);
	ck_assert_uint_gt(b.uidvalidity, a.uidvalidity);
	ck_assert_int_ne(a.id, b.id);
	store_mailbox_clear(&a);
	store_mailbox_clear(&b);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_claim_recent_once)
{
	struct fx f;
	struct store_mailbox mb;
	uint32_t first;

	fx_setup_at(&f, "sub/store.db");
	append(&f, f.inbox, MSG1);
	append(&f, f.inbox, MSG2);
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_uint_eq(mb.recent, 2);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_mailbox_claim_recent(f.st, f.inbox, &first), 0);
	ck_assert_uint_eq(first, 1);
	ck_assert_int_eq(store_mailbox_claim_recent(f.st, f.inbox, &first), 0);
	ck_assert_uint_eq(first, 3);
	append(&f, f.inbox, "Subject: x\r\n\r\n");
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_uint_eq(mb.recent, 1);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_mailbox_claim_recent(f.st, f.inbox, &first), 0);
	ck_assert_uint_eq(first, 3);
	fx_teardown(&f);
}
END_TEST

/* ---- content ---------------------------------------------------------------- */

START_TEST(test_store_copy_shares_one_content_row)
{
	struct fx f;
	struct store_msg a, b;
	uint32_t uid, nu[2], uids[2];
	int64_t other;

	fx_setup_at(&f, "sub/store.db");
	other = mkbox(&f, "Other");
	uid = append(&f, f.inbox, MSG1);
	uids[0] = uid;
	uids[1] = 99;	/* not there: ignored, 0 in newuids */
	ck_assert_int_eq(store_msg_copy(f.st, f.inbox, uids, 2, other, nu), 0);
	ck_assert_uint_eq(nu[0], 1);
	ck_assert_uint_eq(nu[1], 0);
	/* The same bytes appended again are not stored again either. */
	append(&f, other, MSG1);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 1);
	ck_assert_int_eq(count(&f, "SELECT refs FROM content"), 3);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uid, &a), 0);
	ck_assert_int_eq(store_msg_get(f.st, other, 1, &b), 0);
	ck_assert_int_eq(a.content, b.content);
	ck_assert_uint_eq(a.size, strlen(MSG1));
	/* Content goes when the last message does. */
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, &uid, 1), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 1);
	uids[0] = 1;
	uids[1] = 2;
	ck_assert_int_eq(store_msg_expunge(f.st, other, uids, 2), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM chunk"), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_move_expunges_source)
{
	struct fx f;
	struct store_msg *v;
	uint32_t uids[2], nu[2], *gone;
	size_t n;
	int64_t other;

	fx_setup_at(&f, "sub/store.db");
	other = mkbox(&f, "Other");
	uids[0] = append(&f, f.inbox, MSG1);
	uids[1] = append(&f, f.inbox, MSG2);
	ck_assert_int_eq(store_msg_move(f.st, f.inbox, uids, 2, other, nu), 0);
	ck_assert_uint_eq(nu[0], 1);
	ck_assert_uint_eq(nu[1], 2);
	ck_assert_int_eq(store_msg_list(f.st, f.inbox, 0, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(store_msg_vanished(f.st, f.inbox, 0, &gone, &n), 0);
	ck_assert_uint_eq(n, 2);
	free(gone);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 2);
	fx_teardown(&f);
}
END_TEST

/*
 * A schema 2 store hid POP3-deleted messages with the keyword
 * $POP3Deleted: opening it moves them to the hidden state, takes the
 * keyword away (other keywords stay) under a new MODSEQ, and leaves the
 * rest alone.
 */
START_TEST(test_store_migration_3_turns_pop3_keyword_into_hidden)
{
	static const char *const kws[] = { "$POP3Deleted", "$Label1" };
	struct store_flag_change ch = { STORE_FLAGS_ADD, 0, kws, 2, 0 };
	struct store_mailbox mb;
	struct store_msg m;
	struct fx f;
	uint32_t uids[3], *hidden = NULL;
	uint64_t before;
	size_t n = 0;
	char *name;
	int64_t other;

	fx_setup(&f);
	other = mkbox(&f, "Other");
	uids[0] = append(&f, f.inbox, MSG1);
	uids[1] = append(&f, f.inbox, MSG2);
	uids[2] = append(&f, other, MSG1);
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, uids, 1, &ch, NULL,
	    NULL, NULL, NULL), 0);
	ch.nkeywords = 1;
	ck_assert_int_eq(store_msg_set_flags(f.st, other, &uids[2], 1, &ch,
	    NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	before = mb.highestmodseq;
	store_mailbox_clear(&mb);
	store_close(&f.st);
	poke(&f, "DROP TRIGGER message_pop3_forget; DROP TABLE pop3_hidden; "
	    "PRAGMA user_version = 2");
	fx_open(&f);
	ck_assert_int_eq(count(&f, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	ck_assert_int_eq(store_pop3_hidden(f.st, f.inbox, &hidden, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(hidden[0], uids[0]);
	free(hidden);
	ck_assert_int_eq(store_pop3_hidden(f.st, other, &hidden, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(hidden);
	/* The keyword is gone, $Label1 stays, and the change is seen. */
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uids[0], &m), 0);
	ck_assert_uint_eq(m.nkw, 1);
	ck_assert_int_eq(store_keyword_name(f.st, f.acct, m.kw[0], &name), 0);
	ck_assert_str_eq(name, "$Label1");
	free(name);
	ck_assert_uint_gt(m.modseq, before);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uids[1], &m), 0);
	ck_assert_uint_eq(m.nkw, 0);
	ck_assert_int_eq(store_msg_get(f.st, other, uids[2], &m), 0);
	ck_assert_uint_eq(m.nkw, 0);
	/* The trigger came with the table: an expunge forgets the row. */
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, uids, 1), 0);
	ck_assert_int_eq(store_pop3_hidden(f.st, f.inbox, &hidden, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(hidden);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_expunge_leaves_tombstones_for_vanished)
{
	struct fx f;
	struct store_mailbox mb;
	struct store_msg *v;
	uint32_t uids[5], del[2], *gone;
	uint64_t before;
	size_t n, i;
	char msg[64];

	fx_setup_at(&f, "sub/store.db");
	for (i = 0; i < 5; i++) {
		snprintf(msg, sizeof(msg), "Subject: %zu\r\n\r\nbody %zu\r\n",
		    i, i);
		uids[i] = append(&f, f.inbox, msg);
	}
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	before = mb.highestmodseq;
	store_mailbox_clear(&mb);
	del[0] = uids[1];
	del[1] = uids[3];
	ck_assert_int_eq(store_msg_expunge(f.st, f.inbox, del, 2), 0);
	ck_assert_int_eq(store_msg_vanished(f.st, f.inbox, before, &gone, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(gone[0], 2);
	ck_assert_uint_eq(gone[1], 4);
	free(gone);
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_int_eq(store_msg_vanished(f.st, f.inbox, mb.highestmodseq,
	    &gone, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(gone);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_msg_list(f.st, f.inbox, 0, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(v[0].uid, 1);
	ck_assert_uint_eq(v[1].uid, 3);
	ck_assert_uint_eq(v[2].uid, 5);
	free(v);
	fx_teardown(&f);
}
END_TEST

/* Sizes around the chunk boundary, written in awkward pieces. */
static const size_t stream_sizes[] = {
	0, 1, STORE_CHUNK_SIZE - 1, STORE_CHUNK_SIZE, STORE_CHUNK_SIZE + 1,
	2 * STORE_CHUNK_SIZE, 3 * STORE_CHUNK_SIZE + STORE_CHUNK_SIZE / 2,
};

START_TEST(test_store_streaming_append_reads_back_and_seeks)
{
	size_t size = stream_sizes[_i], off, piece, got, k;
	struct store_append *ap;
	struct store_reader *rd;
	struct store_msg m;
	unsigned char *data, *back;
	struct fx f;
	uint32_t uid;
	ssize_t r;

	fx_setup_at(&f, "sub/store.db");
	data = xmalloc(size + 1);
	back = xmalloc(size + 1);
	fill_random(data, size, size);
	ck_assert_int_eq(store_append_begin(f.st, f.inbox, NULL, &ap), 0);
	for (off = 0; off < size; off += piece) {
		piece = 1 + (off * 7919) % 5000;
		if (piece > size - off)
			piece = size - off;
		ck_assert_int_eq(store_append_write(ap, data + off, piece), 0);
	}
	ck_assert_int_eq(store_append_commit(&ap, &uid), 0);
	ck_assert_ptr_null(ap);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uid, &m), 0);
	ck_assert_uint_eq(m.size, size);
	ck_assert_int_eq(store_reader_open(f.st, m.content, &rd), 0);
	ck_assert_uint_eq(store_reader_size(rd), size);
	for (got = 0; (r = store_reader_read(rd, back + got, 3000)) > 0;)
		got += (size_t)r;
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(got, size);
	ck_assert(memcmp(data, back, size) == 0);
	/* Byte ranges across chunk boundaries, backwards too. */
	for (k = 0; k < 20 && size > 0; k++) {
		off = (k * 104729u) % size;
		ck_assert_int_eq(store_reader_seek(rd, off), 0);
		r = store_reader_read(rd, back, 70000);
		ck_assert_int_eq(r, (ssize_t)(size - off < 70000 ? size - off :
		    70000));
		ck_assert(memcmp(data + off, back, (size_t)r) == 0);
	}
	ck_assert_int_eq(store_reader_seek(rd, size + 1), STORE_EINVAL);
	store_reader_close(&rd);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM chunk"),
	    size == 0 ? 1 : (int64_t)((size + STORE_CHUNK_SIZE - 1) /
	    STORE_CHUNK_SIZE));
	/* The same large bytes again: deduplicated after streaming. */
	ck_assert_int_eq(store_append_mem(f.st, f.inbox, NULL, data, size,
	    &uid), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 1);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM chunk"),
	    size == 0 ? 1 : (int64_t)((size + STORE_CHUNK_SIZE - 1) /
	    STORE_CHUNK_SIZE));
	free(data);
	free(back);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_append_abort_leaves_nothing)
{
	struct fx f;
	struct store_append *ap;
	unsigned char *data = xmalloc(3 * STORE_CHUNK_SIZE);

	fx_setup_at(&f, "sub/store.db");
	fill_random(data, 3 * STORE_CHUNK_SIZE, 1);
	ck_assert_int_eq(store_append_begin(f.st, f.inbox, NULL, &ap), 0);
	ck_assert_int_eq(store_append_write(ap, data, 3 * STORE_CHUNK_SIZE), 0);
	ck_assert_int_gt(count(&f, "SELECT count(*) FROM chunk"), 0);
	store_append_abort(&ap);
	ck_assert_ptr_null(ap);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM chunk"), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 0);
	free(data);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_skip_duplicate_returns_existing_uid)
{
	struct fx f;
	struct store_append_opts o;
	uint32_t uid, again = 0;

	fx_setup_at(&f, "sub/store.db");
	memset(&o, 0, sizeof(o));
	o.skip_duplicate = 1;
	uid = append(&f, f.inbox, MSG1);
	ck_assert_int_eq(store_append_mem(f.st, f.inbox, &o, MSG1, strlen(MSG1),
	    &again), STORE_EEXIST);
	ck_assert_uint_eq(again, uid);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM message"), 1);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_mime_cached_at_ingest)
{
	struct fx f;
	struct mime_part *root = NULL;
	struct store_msg m;
	uint32_t uid;

	fx_setup_at(&f, "sub/store.db");
	uid = append(&f, f.inbox, MSG1);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uid, &m), 0);
	ck_assert_int_eq(store_content_mime(f.st, m.content, &root), 0);
	ck_assert_str_eq(root->type, "text");
	ck_assert_str_eq(root->subtype, "plain");
	ck_assert_uint_eq(root->body_len, strlen("Shall we meet at noon?\r\n"));
	mime_part_free(&root);
	/* The root-only read gives the same root without children. */
	ck_assert_int_eq(store_content_envelope(f.st, m.content, &root), 0);
	ck_assert_str_eq(root->subtype, "plain");
	ck_assert_uint_eq(root->nchildren, 0);
	ck_assert_uint_eq(root->body_len, strlen("Shall we meet at noon?\r\n"));
	mime_part_free(&root);
	/* Without the cache the tree is parsed again from the content. */
	poke(&f, "UPDATE content SET mime = NULL");
	ck_assert_int_eq(store_content_mime(f.st, m.content, &root), 0);
	ck_assert_str_eq(root->subtype, "plain");
	mime_part_free(&root);
	ck_assert_int_eq(store_content_envelope(f.st, m.content, &root), 0);
	ck_assert_str_eq(root->subtype, "plain");
	mime_part_free(&root);
	fx_teardown(&f);
}
END_TEST

/* ---- flags ---------------------------------------------------------------- */

START_TEST(test_store_flags_and_keywords_ops)
{
	struct fx f;
	const char *kw1[] = { "$Forwarded", "work" };
	const char *kw2[] = { "WORK" };
	struct store_flag_change ch;
	struct store_msg m;
	uint32_t uids[2], *changed, *failed, id;
	size_t nc, nf;
	char *name;

	fx_setup_at(&f, "sub/store.db");
	uids[0] = append(&f, f.inbox, MSG1);
	uids[1] = append(&f, f.inbox, MSG2);
	memset(&ch, 0, sizeof(ch));
	ch.op = STORE_FLAGS_ADD;
	ch.flags = STORE_F_SEEN | STORE_F_FLAGGED;
	ch.keywords = kw1;
	ch.nkeywords = 2;
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, uids, 2, &ch,
	    &changed, &nc, &failed, &nf), 0);
	ck_assert_uint_eq(nc, 2);
	ck_assert_uint_eq(nf, 0);
	free(changed);
	free(failed);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uids[0], &m), 0);
	ck_assert_uint_eq(m.flags, STORE_F_SEEN | STORE_F_FLAGGED);
	ck_assert_uint_eq(m.nkw, 2);
	ck_assert_uint_lt(m.kw[0], m.kw[1]);
	ck_assert_int_eq(store_keyword_name(f.st, f.acct, m.kw[1], &name), 0);
	ck_assert_str_eq(name, "work");
	free(name);
	/* Keywords match case-insensitively. */
	ck_assert_int_eq(store_keyword_id(f.st, f.acct, "Work", 0, &id), 0);
	ck_assert_uint_eq(id, m.kw[1]);
	ck_assert_int_eq(store_keyword_id(f.st, f.acct, "nope", 0, &id),
	    STORE_ENOENT);
	/* Remove one keyword and a flag from the first message only. */
	ch.op = STORE_FLAGS_REMOVE;
	ch.flags = STORE_F_FLAGGED;
	ch.keywords = kw2;
	ch.nkeywords = 1;
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, uids, 1, &ch,
	    NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uids[0], &m), 0);
	ck_assert_uint_eq(m.flags, STORE_F_SEEN);
	ck_assert_uint_eq(m.nkw, 1);
	/* UNCHANGEDSINCE: the first message changed after the second. */
	memset(&ch, 0, sizeof(ch));
	ch.op = STORE_FLAGS_SET;
	ch.flags = STORE_F_DELETED;
	ch.unchangedsince = m.modseq - 1;
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, uids, 2, &ch,
	    &changed, &nc, &failed, &nf), 0);
	ck_assert_uint_eq(nf, 1);
	ck_assert_uint_eq(failed[0], uids[0]);
	ck_assert_uint_eq(nc, 1);
	ck_assert_uint_eq(changed[0], uids[1]);
	free(changed);
	free(failed);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uids[1], &m), 0);
	ck_assert_uint_eq(m.flags, STORE_F_DELETED);
	ck_assert_uint_eq(m.nkw, 0);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uids[0], &m), 0);
	ck_assert_uint_eq(m.flags, STORE_F_SEEN);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_copy_across_accounts_maps_keywords)
{
	struct fx f;
	const char *kw[] = { "$Label1" };
	struct store_append_opts o;
	struct store_msg m;
	uint32_t uid, nu;
	int64_t acct2;
	struct store_mailbox mb;
	char *name;

	fx_setup_at(&f, "sub/store.db");
	/* Give account 2 a keyword first so the ids differ. */
	ck_assert_int_eq(store_account_create(f.st, "other", &acct2), 0);
	ck_assert_int_eq(store_keyword_id(f.st, acct2, "x", 1, &uid), 0);
	memset(&o, 0, sizeof(o));
	o.keywords = kw;
	o.nkeywords = 1;
	o.flags = STORE_F_ANSWERED;
	ck_assert_int_eq(store_append_mem(f.st, f.inbox, &o, MSG1, strlen(MSG1),
	    &uid), 0);
	ck_assert_int_eq(store_mailbox_find(f.st, acct2, "inbox", &mb), 0);
	ck_assert_int_eq(store_msg_copy(f.st, f.inbox, &uid, 1, mb.id, &nu), 0);
	ck_assert_int_eq(store_msg_get(f.st, mb.id, nu, &m), 0);
	ck_assert_uint_eq(m.flags, STORE_F_ANSWERED);
	ck_assert_uint_eq(m.nkw, 1);
	ck_assert_int_eq(store_keyword_name(f.st, acct2, m.kw[0], &name), 0);
	ck_assert_str_eq(name, "$Label1");
	free(name);
	store_mailbox_clear(&mb);
	fx_teardown(&f);
}
END_TEST

/* ---- mailboxes ------------------------------------------------------------ */

static void
assert_names(struct fx *f, const char *const *want, size_t nwant)
{
	struct store_mailbox *list;
	size_t n, i;

	ck_assert_int_eq(store_mailbox_list(f->st, f->acct, 1, &list, &n), 0);
	ck_assert_uint_eq(n, nwant);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(list[i].name, want[i]);
	store_mailbox_list_free(&list, n);
	ck_assert_ptr_null(list);
}

START_TEST(test_store_rename_moves_children)
{
	static const char *const before[] = { "INBOX", "a", "a/b", "a/b/c",
	    "ab" };
	static const char *const after[] = { "INBOX", "ab", "x", "x/y",
	    "x/y/b", "x/y/b/c" };
	struct fx f;
	struct store_mailbox mb;
	int64_t c;

	fx_setup_at(&f, "sub/store.db");
	c = mkbox(&f, "a/b/c");
	mkbox(&f, "ab");
	append(&f, c, MSG1);
	assert_names(&f, before, 5);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "a", "x/y"), 0);
	assert_names(&f, after, 6);
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "x/y/b/c", &mb), 0);
	ck_assert_int_eq(mb.id, c);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "a/b/c", &mb),
	    STORE_ENOENT);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "ab", "x"),
	    STORE_EEXIST);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "INBOX", "y"),
	    STORE_EINVAL);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "x", "x/z"),
	    STORE_EINVAL);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "nope", "z"),
	    STORE_ENOENT);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "ab", "inbox"),
	    STORE_EEXIST);
	assert_names(&f, after, 6);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_delete_mailbox_removes_messages_not_children)
{
	static const char *const after[] = { "INBOX", "p/q" };
	struct store_mailbox mb;
	struct fx f;
	int64_t p;

	fx_setup_at(&f, "sub/store.db");
	mkbox(&f, "p/q");
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "p", &mb), 0);
	p = mb.id;
	store_mailbox_clear(&mb);
	append(&f, p, MSG2);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 1);
	ck_assert_int_eq(store_mailbox_delete(f.st, p), 0);
	assert_names(&f, after, 2);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM message"), 0);
	ck_assert_int_eq(store_mailbox_delete(f.st, f.inbox), STORE_EINVAL);
	ck_assert_int_eq(store_mailbox_delete(f.st, p), STORE_ENOENT);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_inbox_is_case_insensitive)
{
	struct fx f;
	struct store_mailbox mb;
	int64_t id;

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "iNbOx", &mb), 0);
	ck_assert_str_eq(mb.name, "INBOX");
	ck_assert_int_eq(mb.id, f.inbox);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "Inbox", 0, &id),
	    STORE_EEXIST);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "inbox/Sub", 0,
	    &id), 0);
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "INBOX/Sub", &mb), 0);
	ck_assert_str_eq(mb.name, "INBOX/Sub");
	store_mailbox_clear(&mb);
	/* Other names are case-sensitive. */
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "inbox/sub", &mb),
	    STORE_ENOENT);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "a//b", 0, &id),
	    STORE_EINVAL);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "/a", 0, &id),
	    STORE_EINVAL);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "a\x01", 0, &id),
	    STORE_EINVAL);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "\xff", 0, &id),
	    STORE_EINVAL);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_subscribe_and_special_use)
{
	struct fx f;
	struct store_mailbox mb;
	int64_t id;

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "Sent", STORE_SU_SENT,
	    &id), 0);
	ck_assert_int_eq(store_mailbox_subscribe(f.st, id, 1), 0);
	ck_assert_int_eq(store_mailbox_find(f.st, f.acct, "Sent", &mb), 0);
	ck_assert_uint_eq(mb.special_use, STORE_SU_SENT);
	ck_assert_int_eq(mb.subscribed, 1);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_mailbox_set_special_use(f.st, id,
	    STORE_SU_TRASH), 0);
	ck_assert_int_eq(store_mailbox_subscribe(f.st, id, 0), 0);
	ck_assert_int_eq(store_mailbox_status(f.st, id, &mb), 0);
	ck_assert_uint_eq(mb.special_use, STORE_SU_TRASH);
	ck_assert_int_eq(mb.subscribed, 0);
	store_mailbox_clear(&mb);
	fx_teardown(&f);
}
END_TEST

/* ---- accounts, settings, transactions -------------------------------------- */

/* A rename keeps the account's id, mail and settings, survives a reopen,
 * frees the old name and refuses a name in use. */
START_TEST(test_store_account_rename_keeps_mail)
{
	struct store_mailbox mb;
	struct fx f;
	int64_t id, other;
	char *v;

	fx_setup(&f);
	ck_assert_int_eq(store_account_create(f.st, "work", &id), 0);
	ck_assert_int_eq(store_account_create(f.st, "home", &other), 0);
	ck_assert_int_eq(store_account_set(f.st, id, "host", "h", 1), 0);
	ck_assert_int_eq(store_mailbox_find(f.st, id, "INBOX", &mb), 0);
	append(&f, mb.id, MSG2);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_account_rename(f.st, id, "home"), STORE_EEXIST);
	ck_assert_int_eq(store_account_rename(f.st, 9999, "x"), STORE_ENOENT);
	ck_assert_int_eq(store_account_rename(f.st, id, "job"), 0);
	fx_reopen(&f);
	ck_assert_int_eq(store_account_find(f.st, "work", &other),
	    STORE_ENOENT);
	ck_assert_int_eq(store_account_find(f.st, "job", &other), 0);
	ck_assert_int_eq(other, id);
	ck_assert_int_eq(store_account_get(f.st, id, "host", &v, NULL), 0);
	ck_assert_str_eq(v, "h");
	free(v);
	ck_assert_int_eq(store_mailbox_find(f.st, id, "INBOX", &mb), 0);
	other = mb.id;
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_mailbox_status(f.st, other, &mb), 0);
	ck_assert_uint_eq(mb.messages, 1);
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_account_create(f.st, "work", &other), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_accounts_and_settings)
{
	struct fx f;
	struct store_account *list;
	char **keys, *v;
	size_t n, len;
	int64_t id, b;

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(store_account_create(f.st, "b", &b), 0);
	ck_assert_int_eq(store_account_create(f.st, "a", &id), 0);
	ck_assert_int_eq(store_account_create(f.st, "a", &id), STORE_EEXIST);
	ck_assert_int_eq(store_account_list(f.st, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].name, "a");
	ck_assert_str_eq(list[1].name, "b");
	ck_assert_str_eq(list[2].name, "me@example.org");
	store_account_list_free(&list, n);
	ck_assert_int_eq(store_account_find(f.st, "b", &id), 0);
	ck_assert_int_eq(id, b);
	ck_assert_int_eq(store_account_find(f.st, "B", &id), STORE_ENOENT);
	ck_assert_int_eq(store_account_set(f.st, b, "host", "imap.example.org",
	    16), 0);
	ck_assert_int_eq(store_account_set(f.st, b, "pass", "s3cret", 6), 0);
	ck_assert_int_eq(store_account_get(f.st, b, "host", &v, &len), 0);
	ck_assert_str_eq(v, "imap.example.org");
	ck_assert_uint_eq(len, 16);
	free(v);
	ck_assert_int_eq(store_account_get(f.st, f.acct, "host", &v, &len),
	    STORE_ENOENT);
	ck_assert_int_eq(store_account_keys(f.st, b, &keys, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(keys[0], "host");
	ck_assert_str_eq(keys[1], "pass");
	store_strv_free(&keys, n);
	ck_assert_int_eq(store_account_unset(f.st, b, "pass"), 0);
	ck_assert_int_eq(store_account_unset(f.st, b, "pass"), STORE_ENOENT);
	ck_assert_int_eq(store_config_keys(f.st, &keys, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(keys[0], "local-password");
	store_strv_free(&keys, n);
	ck_assert_int_eq(store_config_set(f.st, "x", "1", 1), 0);
	ck_assert_int_eq(store_config_unset(f.st, "x"), 0);
	ck_assert_int_eq(store_config_get(f.st, "x", &v, NULL), STORE_ENOENT);
	/* Deleting an account takes everything of it along. */
	{
		struct store_mailbox mb;

		ck_assert_int_eq(store_mailbox_find(f.st, b, "INBOX", &mb), 0);
		append(&f, mb.id, MSG2);
		store_mailbox_clear(&mb);
	}
	ck_assert_int_eq(store_account_delete(f.st, b), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM account_setting"), 0);
	ck_assert_int_eq(store_account_delete(f.st, b), STORE_ENOENT);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_txn_groups_changes_atomically)
{
	struct fx f;
	struct store_msg *v;
	size_t n;

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(store_txn_begin(f.st), 0);
	ck_assert_int_eq(store_txn_begin(f.st), STORE_EINVAL);
	append(&f, f.inbox, MSG1);
	append(&f, f.inbox, MSG2);
	store_txn_rollback(f.st);
	ck_assert_int_eq(store_msg_list(f.st, f.inbox, 0, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(store_txn_begin(f.st), 0);
	append(&f, f.inbox, MSG1);
	/* A failing call inside the batch undoes only itself. */
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "INBOX", 0, NULL),
	    STORE_EEXIST);
	append(&f, f.inbox, MSG2);
	ck_assert_int_eq(store_txn_commit(f.st), 0);
	ck_assert_int_eq(store_msg_list(f.st, f.inbox, 0, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* UIDs handed out in the rolled-back batch were not kept... */
	ck_assert_uint_eq(v[0].uid, 1);
	free(v);
	fx_teardown(&f);
}
END_TEST

/* ---- change feed ------------------------------------------------------------- */

struct waiter {
	struct store *st;
	int64_t	 mbox;
	uint64_t since;
	int	 timeout;
	int	 rc;
	int64_t	 woke_at;
};

static void *
wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->rc = store_wait_change(w->st, w->mbox, w->since, w->timeout);
	w->woke_at = now_ms();
	return NULL;
}

static uint64_t
hms(struct fx *f, int64_t mbox)
{
	struct store_mailbox mb;
	uint64_t v;

	ck_assert_int_eq(store_mailbox_status(f->st, mbox, &mb), 0);
	v = mb.highestmodseq;
	store_mailbox_clear(&mb);
	return v;
}

START_TEST(test_store_change_feed_wakes_waiter_in_process)
{
	struct fx f;
	struct waiter w;
	int64_t committed;
	pthread_t t;

	fx_setup_at(&f, "sub/store.db");
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(store_open_shared(f.st, &w.st), 0);
	w.mbox = f.inbox;
	w.since = hms(&f, f.inbox);
	w.timeout = 10000;
	ck_assert_int_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(100 * 1000);
	append(&f, f.inbox, MSG1);
	committed = now_ms();
	pthread_join(t, NULL);
	ck_assert_int_eq(w.rc, 1);
	/* Woken by the commit, not found by the 500 ms poll. */
	ck_assert_int_lt(w.woke_at - committed, 300);
	/* Already changed: returns at once. */
	ck_assert_int_eq(store_wait_change(w.st, f.inbox, 0, 1000), 1);
	store_close(&w.st);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_change_feed_times_out)
{
	struct fx f;
	int64_t t0;

	fx_setup_at(&f, "sub/store.db");
	t0 = now_ms();
	ck_assert_int_eq(store_wait_change(f.st, f.inbox, hms(&f, f.inbox),
	    700), 0);
	ck_assert_int_ge(now_ms() - t0, 690);
	ck_assert_int_lt(now_ms() - t0, 2000);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_change_feed_sees_other_process)
{
	struct fx f;
	uint64_t since;
	pid_t pid;
	int status, rc;

	fx_setup_at(&f, "sub/store.db");
	since = hms(&f, f.inbox);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *st;
		char err[STORE_ERRMSG_MAX];
		uint32_t uid;

		usleep(200 * 1000);
		if (store_open(f.path, PASS, strlen(PASS), &st, err,
		    sizeof(err)) != 0 || store_append_mem(st, f.inbox, NULL,
		    MSG2, strlen(MSG2), &uid) != 0)
			_exit(1);
		store_close(&st);
		_exit(0);
	}
	rc = store_wait_change(f.st, f.inbox, since, 10000);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(rc, 1);
	/* Seen once, then quiet until the next foreign commit. */
	(void)store_changed_elsewhere(f.st);
	ck_assert_int_eq(store_changed_elsewhere(f.st), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_change_fd_readable_after_commit)
{
	struct fx f;
	struct store *other;
	struct timeval tv = { 0, 0 };
	fd_set fds;
	int fd;

	fx_setup_at(&f, "sub/store.db");
	ck_assert_int_eq(store_open_shared(f.st, &other), 0);
	fd = store_change_fd(other);
	store_change_ack(other);
	append(&f, f.inbox, MSG1);
	FD_ZERO(&fds);
	FD_SET(fd, &fds);
	ck_assert_int_eq(select(fd + 1, &fds, NULL, NULL, &tv), 1);
	store_change_ack(other);
	FD_ZERO(&fds);
	FD_SET(fd, &fds);
	ck_assert_int_eq(select(fd + 1, &fds, NULL, NULL, &tv), 0);
	store_close(&other);
	fx_teardown(&f);
}
END_TEST

/* ---- check ----------------------------------------------------------------- */

START_TEST(test_store_check_passes_on_good_store)
{
	struct fx f;
	unsigned char *big = xmalloc(200000);
	uint64_t bad = 1;
	const char *kw[] = { "$Junk" };
	struct store_flag_change ch = { STORE_FLAGS_ADD, 0, kw, 1, 0 };
	uint32_t uid;

	fx_setup_at(&f, "sub/store.db");
	fill_random(big, 200000, 3);
	uid = append(&f, f.inbox, MSG1);
	ck_assert_int_eq(store_msg_set_flags(f.st, f.inbox, &uid, 1, &ch,
	    NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(store_append_mem(f.st, mkbox(&f, "a/b"), NULL, big,
	    200000, &uid), 0);
	ck_assert_int_eq(store_account_set(f.st, f.acct, "k", "v", 1), 0);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), 0);
	ck_assert_uint_eq(bad, 0);
	free(big);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_check_finds_corrupted_chunk)
{
	struct fx f;
	struct store_reader *rd;
	struct store_msg m;
	unsigned char *big = xmalloc(200000), buf[100];
	uint64_t bad = 0;
	uint32_t uid;

	fx_setup_at(&f, "sub/store.db");
	fill_random(big, 200000, 4);
	ck_assert_int_eq(store_append_mem(f.st, f.inbox, NULL, big, 200000,
	    &uid), 0);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uid, &m), 0);
	store_close(&f.st);
	/* Change one byte in the middle of chunk 1 (the ciphertext is
	 * random, so the new value must depend on the old one). */
	poke(&f, "UPDATE chunk SET data = substr(data, 1, 1000) || "
	    "CASE WHEN substr(data, 1001, 1) = x'00' THEN x'01' ELSE x'00' "
	    "END || substr(data, 1002) WHERE idx = 1");
	fx_open(&f);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), STORE_ECORRUPT);
	ck_assert_uint_eq(bad, 1);
	ck_assert_ptr_nonnull(strstr(store_errmsg(f.st), "chunk 1"));
	ck_assert_int_eq(store_reader_open(f.st, m.content, &rd), 0);
	ck_assert_int_eq(store_reader_read(rd, buf, sizeof(buf)), 100);
	ck_assert_int_eq(store_reader_seek(rd, STORE_CHUNK_SIZE + 5), 0);
	ck_assert_int_eq(store_reader_read(rd, buf, sizeof(buf)),
	    STORE_ECORRUPT);
	store_reader_close(&rd);
	free(big);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_swapped_or_cut_chunks_are_found)
{
	struct fx f;
	unsigned char *big = xmalloc(200000);
	uint64_t bad = 0;
	uint32_t uid;

	fx_setup_at(&f, "sub/store.db");
	fill_random(big, 200000, 5);
	ck_assert_int_eq(store_append_mem(f.st, f.inbox, NULL, big, 200000,
	    &uid), 0);
	store_close(&f.st);
	/* Swap chunks 0 and 1. */
	poke(&f, "UPDATE chunk SET idx = 100 WHERE idx = 0;"
	    "UPDATE chunk SET idx = 0 WHERE idx = 1;"
	    "UPDATE chunk SET idx = 1 WHERE idx = 100");
	fx_open(&f);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), STORE_ECORRUPT);
	store_close(&f.st);
	/* Put them back, then cut the last one off and relabel the size. */
	poke(&f, "UPDATE chunk SET idx = 100 WHERE idx = 0;"
	    "UPDATE chunk SET idx = 0 WHERE idx = 1;"
	    "UPDATE chunk SET idx = 1 WHERE idx = 100");
	fx_open(&f);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), 0);
	store_close(&f.st);
	poke(&f, "DELETE FROM chunk WHERE idx = 3;"
	    "UPDATE content SET nchunks = 3, size = 196608");
	fx_open(&f);
	ck_assert_int_eq(store_check(f.st, &bad, NULL, NULL), STORE_ECORRUPT);
	ck_assert_uint_ge(bad, 1);
	free(big);
	fx_teardown(&f);
}
END_TEST

/* ---- crash safety ------------------------------------------------------------ */

/* Append batches (some messages spanning several chunks) until killed. */
static void
append_forever(const char *path, int64_t mbox)
{
	unsigned char *big = xmalloc(3 * STORE_CHUNK_SIZE);
	char err[STORE_ERRMSG_MAX];
	struct store *st;
	uint32_t uid;
	uint64_t i;

	if (store_open(path, PASS, strlen(PASS), &st, err, sizeof(err)) != 0)
		_exit(1);
	for (i = 0;; i++) {
		fill_random(big, 3 * STORE_CHUNK_SIZE, i);
		if (i % 3 == 0 && store_txn_begin(st) != 0)
			_exit(1);
		if (store_append_mem(st, mbox, NULL, big,
		    (size_t)(i % 3 + 1) * STORE_CHUNK_SIZE - 7, &uid) != 0)
			_exit(1);
		if (i % 3 == 2 && store_txn_commit(st) != 0)
			_exit(1);
	}
}

START_TEST(test_store_sigkill_leaves_consistent_store)
{
	struct fx f;
	struct store_mailbox mb;
	struct store_msg *v;
	uint64_t bad = 0;
	size_t n, i;
	pid_t pid;
	int status;

	fx_setup_at(&f, "sub/store.db");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		append_forever(f.path, f.inbox);
	usleep((useconds_t)(200 + 97 * _i) * 1000);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	fx_reopen(&f);
	ck_assert_msg(store_check(f.st, &bad, NULL, NULL) == 0, "%s",
	    store_errmsg(f.st));
	ck_assert_int_eq(store_mailbox_status(f.st, f.inbox, &mb), 0);
	ck_assert_int_eq(store_msg_list(f.st, f.inbox, 0, &v, &n), 0);
	ck_assert_uint_eq(n, mb.messages);
	ck_assert_uint_eq(n % 3, 0);	/* whole batches only */
	for (i = 0; i < n; i++)
		ck_assert_uint_lt(v[i].uid, mb.uidnext);
	free(v);
	store_mailbox_clear(&mb);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_abandoned_streaming_append_is_cleaned_up)
{
	struct fx f;
	unsigned char *big = xmalloc(3 * STORE_CHUNK_SIZE);
	pid_t pid;
	int status;

	fx_setup_at(&f, "sub/store.db");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store_append *ap;
		char err[STORE_ERRMSG_MAX];
		struct store *st;

		if (store_open(f.path, PASS, strlen(PASS), &st, err,
		    sizeof(err)) != 0 ||
		    store_append_begin(st, f.inbox, NULL, &ap) != 0)
			_exit(1);
		fill_random(big, 3 * STORE_CHUNK_SIZE, 9);
		if (store_append_write(ap, big, 3 * STORE_CHUNK_SIZE) != 0)
			_exit(1);
		_exit(0);	/* dies without commit or abort */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content "
	    "WHERE hash IS NULL"), 1);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM chunk"), 2);
	/* A young one may be another process's append in progress. */
	fx_reopen(&f);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 1);
	ck_assert_int_eq(store_check(f.st, NULL, NULL, NULL), 0);
	store_close(&f.st);
	poke(&f, "UPDATE content SET created = 0");
	fx_open(&f);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM content"), 0);
	ck_assert_int_eq(count(&f, "SELECT count(*) FROM chunk"), 0);
	free(big);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_store_not_a_database_is_refused)
{
	struct fx f;
	struct store *st = NULL;
	char err[STORE_ERRMSG_MAX];
	FILE *fp;

	fx_setup_at(&f, "sub/store.db");
	store_close(&f.st);
	fp = fopen(f.path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("this is not a database, just some text that is long enough "
	    "to look like a file header and then some more text\n", fp);
	fclose(fp);
	ck_assert_int_eq(store_open(f.path, PASS, strlen(PASS), &st, err,
	    sizeof(err)), STORE_ECORRUPT);
	ck_assert_msg(strstr(err, "not a mailvault store") != NULL, "%s", err);
	fx_teardown(&f);
}
END_TEST

/* ---- memory ------------------------------------------------------------------ */

static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/*
 * Informal: a 50 MB append in 64 KiB writes, then reading it back, must
 * not grow the peak RSS by anything like the message's size.
 */
START_TEST(test_store_append_50mb_memory_stays_small)
{
	enum { PIECE = 65536, TOTAL = 50 * 1024 * 1024 };
	struct store_append *ap;
	struct store_reader *rd;
	struct store_msg m;
	unsigned char *piece = xmalloc(PIECE);
	long before, after;
	size_t off;
	uint32_t uid;
	ssize_t r;
	uint64_t total = 0;
	struct fx f;

	fx_setup_at(&f, "sub/store.db");
	/* Warm up: one small append so lazily made state is counted. */
	append(&f, f.inbox, MSG1);
	before = maxrss_kb();
	ck_assert_int_eq(store_append_begin(f.st, f.inbox, NULL, &ap), 0);
	for (off = 0; off < TOTAL; off += PIECE) {
		fill_random(piece, PIECE, off);
		ck_assert_int_eq(store_append_write(ap, piece, PIECE), 0);
	}
	ck_assert_int_eq(store_append_commit(&ap, &uid), 0);
	ck_assert_int_eq(store_msg_get(f.st, f.inbox, uid, &m), 0);
	ck_assert_int_eq(store_reader_open(f.st, m.content, &rd), 0);
	while ((r = store_reader_read(rd, piece, PIECE)) > 0)
		total += (uint64_t)r;
	ck_assert_uint_eq(total, TOTAL);
	store_reader_close(&rd);
	after = maxrss_kb();
#ifndef __SANITIZE_ADDRESS__	/* ASan keeps freed memory in quarantine */
	ck_assert_msg(after - before < 16 * 1024, "peak RSS grew by %ld KiB",
	    after - before);
#else
	(void)before;
	(void)after;
#endif
	free(piece);
	fx_teardown(&f);
}
END_TEST

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase(s, "keys");
	tcase_add_test(tc, test_store_create_open_and_file_modes);
	tcase_add_test(tc, test_store_missing_store_says_init);
	tcase_add_test(tc, test_store_wrong_passphrase_is_ebadpass);
	tcase_add_test(tc, test_store_newer_schema_is_refused);
	tcase_add_test(tc, test_store_passphrase_change_rewraps_only);
	tcase_add_test(tc, test_store_seal_wrong_key_or_flipped_bit_fails);
	tcase_add_test(tc, test_store_sealed_value_moved_to_another_row_fails);
	tcase_add_test(tc, test_store_file_holds_no_plaintext);
	tc = tcase(s, "numbering");
	tcase_add_test(tc, test_store_uid_never_reused_after_expunge_and_reopen);
	tcase_add_test(tc, test_store_highestmodseq_bumped_by_every_change);
	tcase_add_test(tc, test_store_uidvalidity_differs_for_recreated_mailbox);
	tcase_add_test(tc, test_store_claim_recent_once);
	tc = tcase(s, "content");
	tcase_add_test(tc, test_store_copy_shares_one_content_row);
	tcase_add_test(tc, test_store_move_expunges_source);
	tcase_add_test(tc, test_store_migration_3_turns_pop3_keyword_into_hidden);
	tcase_add_test(tc, test_store_expunge_leaves_tombstones_for_vanished);
	tcase_add_loop_test(tc, test_store_streaming_append_reads_back_and_seeks,
	    0, (int)ARRAY_SIZE(stream_sizes));
	tcase_add_test(tc, test_store_append_abort_leaves_nothing);
	tcase_add_test(tc, test_store_skip_duplicate_returns_existing_uid);
	tcase_add_test(tc, test_store_mime_cached_at_ingest);
	tc = tcase(s, "flags");
	tcase_add_test(tc, test_store_flags_and_keywords_ops);
	tcase_add_test(tc, test_store_copy_across_accounts_maps_keywords);
	tc = tcase(s, "mailboxes");
	tcase_add_test(tc, test_store_rename_moves_children);
	tcase_add_test(tc, test_store_delete_mailbox_removes_messages_not_children);
	tcase_add_test(tc, test_store_inbox_is_case_insensitive);
	tcase_add_test(tc, test_store_subscribe_and_special_use);
	tcase_add_test(tc, test_store_accounts_and_settings);
	tcase_add_test(tc, test_store_account_rename_keeps_mail);
	tcase_add_test(tc, test_store_txn_groups_changes_atomically);
	tc = tcase(s, "feed");
	tcase_add_test(tc, test_store_change_feed_wakes_waiter_in_process);
	tcase_add_test(tc, test_store_change_feed_times_out);
	tcase_add_test(tc, test_store_change_feed_sees_other_process);
	tcase_add_test(tc, test_store_change_fd_readable_after_commit);
	tc = tcase(s, "check");
	tcase_add_test(tc, test_store_check_passes_on_good_store);
	tcase_add_test(tc, test_store_check_finds_corrupted_chunk);
	tcase_add_test(tc, test_store_swapped_or_cut_chunks_are_found);
	tc = tcase(s, "crash");
	tcase_add_loop_test(tc, test_store_sigkill_leaves_consistent_store, 0, 4);
	tcase_add_test(tc, test_store_abandoned_streaming_append_is_cleaned_up);
	tcase_add_test(tc, test_store_not_a_database_is_refused);
	tc = tcase(s, "memory");
	tcase_add_test(tc, test_store_append_50mb_memory_stays_small);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
