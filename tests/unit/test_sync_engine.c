/*
 * Unit tests for the sync engine (sync/engine*.c) against the scripted
 * fake upstream (tests/unit/sync_fake.h): initial pull, incremental
 * changes both ways with and without CONDSTORE/QRESYNC, the three-way
 * flag merge, expunge against flag, UIDVALIDITY resets, local moves,
 * folder creates, renames and deletes both ways, APPEND idempotence, POP3
 * UIDL fetching and its delete policies, and crash-and-resume at every
 * step of a sync (as isync's run-tests.pl does): the fake cuts the
 * connection at step N, before or after that step took effect, and a
 * second run must end in the same state as an uninterrupted one, with no
 * duplicate and no loss.
 * Also: a remote rename followed as a local rename (nothing fetched), a
 * message the server refuses to give asked for again a bounded number of
 * times, and folders left unselected when LIST-STATUS shows no change.
 * And issue 17's: folders sharing a UIDVALIDITY (a delete beside a
 * rename), a folder the server will not create, an upstream flag change
 * on a locally moved message, local moves batched per source folder.
 *
 * "Mirrored" is checked by comparing, folder by folder, the sorted lists
 * of (flags, keywords, bytes) on both sides.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/store.h"
#include "sync/driver.h"
#include "sync/sync.h"
#include "tests/unit/sync_fake.h"

#define PASS	"pw"
#define ALLCAPS	(SYNC_CAP_UIDPLUS | SYNC_CAP_CONDSTORE | SYNC_CAP_QRESYNC | \
	SYNC_CAP_MOVE | SYNC_CAP_IDLE)

struct fx {
	char	 dir[64];
	char	*path;
	struct store *st;
	int64_t	 acct;
	struct sync_fake *fake;
	enum sync_proto proto;
	struct sync_stats stats;
	char	 err[512];
};

static void
fx_setup(struct fx *f, unsigned caps, enum sync_proto proto)
{
	char err[STORE_ERRMSG_MAX];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/mvsync.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	f->path = xasprintf("%s/store.db", f->dir);
	ck_assert_msg(store_create(f->path, PASS, strlen(PASS), STORE_KDF_MIN,
	    err, sizeof(err)) == 0, "create: %s", err);
	ck_assert_msg(store_open(f->path, PASS, strlen(PASS), &f->st, err,
	    sizeof(err)) == 0, "open: %s", err);
	ck_assert_int_eq(store_account_create(f->st, "acct", &f->acct), 0);
	f->fake = sync_fake_new(caps);
	f->proto = proto;
}

static void
fx_teardown(struct fx *f)
{
	char *cmd;

	store_close(&f->st);
	sync_fake_free(&f->fake);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(f->path);
}

/* One sync run; returns its outcome. */
static int
run(struct fx *f)
{
	struct sync_opts o = { NULL, NULL, NULL, -1, 0, NULL };
	struct sync_driver *d = sync_fake_driver(f->fake, f->proto);
	int rc;

	rc = sync_account_with(f->st, f->acct, d, &o, &f->stats, f->err,
	    sizeof(f->err));
	d->ops->free(&d);
	return rc;
}

/* Log lines of a run, for tests that check what was said. */
struct logbuf {
	char	 text[8192];
	size_t	 len;
};

static void
log_line(void *arg, int level, const char *msg)
{
	struct logbuf *lb = arg;
	int n = snprintf(lb->text + lb->len, sizeof(lb->text) - lb->len,
	    "%s\n", msg);

	if (n > 0 && (size_t)n < sizeof(lb->text) - lb->len)
		lb->len += (size_t)n;
}

static void
run_logged(struct fx *f, struct logbuf *lb)
{
	struct sync_opts o = { NULL, log_line, lb, -1, 0, NULL };
	struct sync_driver *d = sync_fake_driver(f->fake, f->proto);
	int rc;

	lb->len = 0;
	lb->text[0] = '\0';
	rc = sync_account_with(f->st, f->acct, d, &o, &f->stats, f->err,
	    sizeof(f->err));
	d->ops->free(&d);
	ck_assert_msg(rc == SYNC_OK, "sync failed: %s", f->err);
}

static void
run_ok(struct fx *f)
{
	int rc = run(f);

	ck_assert_msg(rc == SYNC_OK, "sync failed: %s", f->err);
}

static char *
msg_text(const char *folder, int i)
{
	return xasprintf("From: a@example.org\r\nMessage-ID: <%d.%s@test>\r\n"
	    "Subject: message %d in %s\r\n\r\nBody %d\r\n", i, folder, i,
	    folder, i);
}

static uint32_t
remote_add(struct fx *f, const char *folder, int i, uint32_t flags,
    const char *kw)
{
	char *m = msg_text(folder, i);
	uint32_t uid = sync_fake_msg_add(f->fake, folder, m, strlen(m), flags,
	    kw, 1600000000 + i);

	free(m);
	ck_assert_uint_ne(uid, 0);
	return uid;
}

static int64_t
mbox_id(struct fx *f, const char *name)
{
	struct store_mailbox mb;
	int64_t id;

	if (store_mailbox_find(f->st, f->acct, name, &mb) != 0)
		return 0;
	id = mb.id;
	store_mailbox_clear(&mb);
	return id;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "flags|kw|bytes" of every local message of a mailbox, sorted. */
static char **
local_view(struct fx *f, const char *name, size_t *n_r)
{
	struct store_msg *msgs;
	struct store_reader *rd;
	char **v, buf[4096], *kw, *k;
	size_t n, i, j;
	ssize_t got;
	int64_t id = mbox_id(f, name);

	ck_assert_msg(id != 0, "no local mailbox %s", name);
	ck_assert_int_eq(store_msg_list(f->st, id, 0, &msgs, &n), 0);
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		char *names[STORE_MAX_KEYWORDS];

		ck_assert_int_eq(store_reader_open(f->st, msgs[i].content,
		    &rd), 0);
		got = store_reader_read(rd, buf, sizeof(buf) - 1);
		store_reader_close(&rd);
		ck_assert_int_ge(got, 0);
		buf[got] = '\0';
		for (j = 0; j < msgs[i].nkw; j++)
			ck_assert_int_eq(store_keyword_name(f->st, f->acct,
			    msgs[i].kw[j], &names[j]), 0);
		qsort(names, msgs[i].nkw, sizeof(char *), cmp_str);
		kw = xstrdup("");
		for (j = 0; j < msgs[i].nkw; j++) {
			k = xasprintf("%s%s%s", kw, j ? " " : "", names[j]);
			free(kw);
			free(names[j]);
			kw = k;
		}
		v[i] = xasprintf("%u|%s|%s", msgs[i].flags, kw, buf);
		free(kw);
	}
	free(msgs);
	qsort(v, n, sizeof(*v), cmp_str);
	*n_r = n;
	return v;
}

static char **
remote_view(struct fx *f, const char *name, size_t *n_r)
{
	size_t n = sync_fake_msg_count(f->fake, name), i, len;
	char **v = xcalloc(n + 1, sizeof(*v));
	const void *data;
	const char *kw;
	uint32_t flags;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sync_fake_msg_at(f->fake, name, i, NULL,
		    &flags, &kw, &data, &len), 0);
		v[i] = xasprintf("%u|%s|%.*s", flags, kw, (int)len,
		    (const char *)data);
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*n_r = n;
	return v;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The mailbox and the remote folder hold the same messages. */
static void
assert_folder_mirrored(struct fx *f, const char *name)
{
	size_t nl, nr, i;
	char **l = local_view(f, name, &nl), **r = remote_view(f, name, &nr);

	ck_assert_msg(nl == nr, "%s: %zu local, %zu remote messages", name,
	    nl, nr);
	for (i = 0; i < nl; i++)
		ck_assert_msg(strcmp(l[i], r[i]) == 0, "%s differs:\n "
		    "local  %.60s\n remote %.60s", name, l[i], r[i]);
	strv_free(l, nl);
	strv_free(r, nr);
}

/* Every remote folder mirrored, and no local mailbox without one. */
static void
assert_mirrored(struct fx *f)
{
	struct store_mailbox *list;
	size_t n, i;

	ck_assert_int_eq(store_mailbox_list(f->st, f->acct, 1, &list, &n), 0);
	for (i = 0; i < n; i++) {
		/* An empty parent the store made for a remote child. */
		if (!sync_fake_folder_exists(f->fake, list[i].name) &&
		    list[i].messages == 0 && i + 1 < n &&
		    strncmp(list[i + 1].name, list[i].name,
		    strlen(list[i].name)) == 0 &&
		    list[i + 1].name[strlen(list[i].name)] == '/')
			continue;
		ck_assert_msg(sync_fake_folder_exists(f->fake, list[i].name),
		    "local %s is not upstream", list[i].name);
		assert_folder_mirrored(f, list[i].name);
	}
	store_mailbox_list_free(&list, n);
}

static size_t
local_count(struct fx *f, const char *name)
{
	struct store_mailbox mb;
	size_t n;

	ck_assert_int_eq(store_mailbox_status(f->st, mbox_id(f, name), &mb),
	    0);
	n = mb.messages;
	store_mailbox_clear(&mb);
	return n;
}

static void
local_flags(struct fx *f, const char *name, uint32_t uid,
    enum store_flag_op op, uint32_t flags, const char *kw)
{
	struct store_flag_change ch = { op, flags, NULL, 0, 0 };
	const char *k[1] = { kw };

	if (kw != NULL) {
		ch.keywords = k;
		ch.nkeywords = 1;
	}
	ck_assert_int_eq(store_msg_set_flags(f->st, mbox_id(f, name), &uid, 1,
	    &ch, NULL, NULL, NULL, NULL), 0);
}

/* The local UID of the i-th (by UID) message. */
static uint32_t
local_uid_at(struct fx *f, const char *name, size_t i)
{
	struct store_msg *msgs;
	size_t n;
	uint32_t uid;

	ck_assert_int_eq(store_msg_list(f->st, mbox_id(f, name), 0, &msgs, &n),
	    0);
	ck_assert_uint_lt(i, n);
	uid = msgs[i].uid;
	free(msgs);
	return uid;
}

static uint32_t
remote_uid_at(struct fx *f, const char *name, size_t i)
{
	uint32_t uid;

	ck_assert_int_eq(sync_fake_msg_at(f->fake, name, i, &uid, NULL, NULL,
	    NULL, NULL), 0);
	return uid;
}

static uint32_t
remote_flags_at(struct fx *f, const char *name, size_t i, const char **kw)
{
	uint32_t flags;

	ck_assert_int_eq(sync_fake_msg_at(f->fake, name, i, NULL, &flags, kw,
	    NULL, NULL), 0);
	return flags;
}

/* ---- pull ------------------------------------------------------------------ */

START_TEST(test_sync_initial_pull_mirrors_every_folder)
{
	struct fx f;
	int i;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Work", 0);
	sync_fake_folder_add(f.fake, "Archive/2020", STORE_SU_ARCHIVE);
	for (i = 0; i < 30; i++)
		remote_add(&f, "INBOX", i, i % 3 == 0 ? STORE_F_SEEN : 0,
		    i % 5 == 0 ? "$Label1 work" : NULL);
	for (i = 0; i < 10; i++)
		remote_add(&f, "Work", i, STORE_F_FLAGGED, NULL);
	for (i = 0; i < 5; i++)
		remote_add(&f, "Archive/2020", i, STORE_F_SEEN, NULL);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 45);
	assert_mirrored(&f);
	ck_assert_int_ne(mbox_id(&f, "Archive/2020"), 0);
	/* A second run finds nothing to do. */
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 0);
	ck_assert_uint_eq(f.stats.flags_in + f.stats.flags_out, 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_no_change_resync_reads_no_flags_with_condstore)
{
	struct fx f;
	int i;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Work", 0);
	for (i = 0; i < 20; i++)
		remote_add(&f, i % 2 ? "INBOX" : "Work", i, 0, NULL);
	run_ok(&f);
	run_ok(&f);	/* settles the MODSEQ base */
	sync_fake_fail_at(f.fake, 0, 0);
	i = (int)sync_fake_calls(f.fake, "fetch");
	run_ok(&f);
	ck_assert_int_eq((int)sync_fake_calls(f.fake, "fetch"), i);
	ck_assert_int_eq((int)sync_fake_calls(f.fake, "list_uids"), 0);
	fx_teardown(&f);
}
END_TEST

/* Capabilities the incremental tests run under. */
static const unsigned caps_variants[] = {
	0,
	SYNC_CAP_UIDPLUS,
	SYNC_CAP_UIDPLUS | SYNC_CAP_CONDSTORE,
	ALLCAPS,
};

START_TEST(test_sync_incremental_changes_both_ways)
{
	struct fx f;
	uint32_t u;
	const char *kw;
	int i;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	for (i = 0; i < 10; i++)
		remote_add(&f, "INBOX", i, 0, NULL);
	run_ok(&f);
	/* Upstream: 3 new, 2 flag changes, 1 expunge. */
	for (i = 10; i < 13; i++)
		remote_add(&f, "INBOX", i, STORE_F_ANSWERED, NULL);
	sync_fake_msg_set_flags(f.fake, "INBOX", remote_uid_at(&f, "INBOX", 0),
	    STORE_F_SEEN, "todo");
	sync_fake_msg_set_flags(f.fake, "INBOX", remote_uid_at(&f, "INBOX", 1),
	    STORE_F_FLAGGED, NULL);
	sync_fake_msg_expunge(f.fake, "INBOX", remote_uid_at(&f, "INBOX", 2));
	/* Here: 1 flag change, 1 expunge, on other messages. */
	local_flags(&f, "INBOX", local_uid_at(&f, "INBOX", 5), STORE_FLAGS_ADD,
	    STORE_F_SEEN, "done");
	u = local_uid_at(&f, "INBOX", 6);
	ck_assert_int_eq(store_msg_expunge(f.st, mbox_id(&f, "INBOX"), &u, 1),
	    0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 3);
	ck_assert_uint_eq(f.stats.expunged_in, 1);
	ck_assert_uint_eq(f.stats.expunged_out, 1);
	ck_assert_uint_eq(f.stats.flags_in, 2);
	ck_assert_uint_eq(f.stats.flags_out, 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 11);
	assert_mirrored(&f);
	/* Message 5 (now the 5th upstream) carries the local change. */
	ck_assert_uint_eq(remote_flags_at(&f, "INBOX", 4, &kw), STORE_F_SEEN);
	ck_assert_str_eq(kw, "done");
	run_ok(&f);
	ck_assert_uint_eq(f.stats.flags_in + f.stats.flags_out +
	    f.stats.pulled + f.stats.appended, 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_three_way_merge_keeps_both_sides_changes)
{
	struct fx f;
	const char *kw;
	uint32_t ruid, luid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	ruid = remote_add(&f, "INBOX", 0, STORE_F_SEEN, "common gone");
	run_ok(&f);
	luid = local_uid_at(&f, "INBOX", 0);
	/* Both sides change the same message in different ways. */
	sync_fake_msg_set_flags(f.fake, "INBOX", ruid, STORE_F_ANSWERED,
	    "common theirs");
	local_flags(&f, "INBOX", luid, STORE_FLAGS_ADD, STORE_F_FLAGGED,
	    "ours");
	local_flags(&f, "INBOX", luid, STORE_FLAGS_REMOVE, 0, "gone");
	run_ok(&f);
	assert_mirrored(&f);
	/* \Seen removed upstream, \Answered added upstream, \Flagged added
	 * here; keywords: both additions, both removals. */
	ck_assert_uint_eq(remote_flags_at(&f, "INBOX", 0, &kw),
	    STORE_F_ANSWERED | STORE_F_FLAGGED);
	ck_assert_str_eq(kw, "common ours theirs");
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_expunge_wins_over_flag_change)
{
	struct fx f;
	uint32_t r0, r1, l1;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	r0 = remote_add(&f, "INBOX", 0, 0, NULL);
	r1 = remote_add(&f, "INBOX", 1, 0, NULL);
	remote_add(&f, "INBOX", 2, 0, NULL);
	run_ok(&f);
	/* Expunged upstream, flagged here. */
	sync_fake_msg_expunge(f.fake, "INBOX", r0);
	local_flags(&f, "INBOX", local_uid_at(&f, "INBOX", 0), STORE_FLAGS_ADD,
	    STORE_F_FLAGGED, NULL);
	/* Flagged upstream, expunged here. */
	sync_fake_msg_set_flags(f.fake, "INBOX", r1, STORE_F_FLAGGED, NULL);
	l1 = local_uid_at(&f, "INBOX", 1);
	ck_assert_int_eq(store_msg_expunge(f.st, mbox_id(&f, "INBOX"), &l1, 1),
	    0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 1);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 1);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_nomodseq_folder_falls_back_to_flag_scan)
{
	struct fx f;
	uint32_t r0;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_nomodseq(f.fake, "INBOX");
	r0 = remote_add(&f, "INBOX", 0, 0, NULL);
	remote_add(&f, "INBOX", 1, 0, NULL);
	run_ok(&f);
	sync_fake_msg_set_flags(f.fake, "INBOX", r0, STORE_F_SEEN, NULL);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.flags_in, 1);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* ---- UIDVALIDITY --------------------------------------------------------- */

START_TEST(test_sync_uidvalidity_reset_rematches_without_duplicates)
{
	struct fx f;
	uint32_t before[8], uid;
	char *plain;
	int i;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	for (i = 0; i < 6; i++)
		remote_add(&f, "INBOX", i, i == 2 ? STORE_F_SEEN : 0, NULL);
	/* One without a Message-ID: matched by content instead. */
	plain = xstrdup("Subject: no id\r\n\r\nplain\r\n");
	sync_fake_msg_add(f.fake, "INBOX", plain, strlen(plain), 0, NULL, 5);
	free(plain);
	run_ok(&f);
	for (i = 0; i < 7; i++)
		before[i] = local_uid_at(&f, "INBOX", (size_t)i);
	/* Recreated upstream: new UIDVALIDITY, new UIDs; one message more,
	 * one less, and a flag changed here meanwhile. */
	sync_fake_msg_expunge(f.fake, "INBOX", remote_uid_at(&f, "INBOX", 0));
	sync_fake_folder_reset(f.fake, "INBOX");
	remote_add(&f, "INBOX", 100, 0, NULL);
	local_flags(&f, "INBOX", before[3], STORE_FLAGS_ADD, STORE_F_FLAGGED,
	    NULL);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 1);	/* only the new one */
	/* Message 0, gone upstream in the reset, is sent again: no loss. */
	ck_assert_uint_eq(f.stats.appended, 1);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 8);
	assert_mirrored(&f);
	/* Local UIDs unchanged. */
	for (i = 0; i < 7; i++) {
		uid = local_uid_at(&f, "INBOX", (size_t)i);
		ck_assert_uint_eq(uid, before[i]);
	}
	fx_teardown(&f);
}
END_TEST

/* ---- push ----------------------------------------------------------------- */

START_TEST(test_sync_local_move_becomes_remote_move)
{
	struct fx f;
	uint32_t uid, newuid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Trash", STORE_SU_TRASH);
	remote_add(&f, "INBOX", 0, STORE_F_SEEN, NULL);
	remote_add(&f, "INBOX", 1, 0, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, "INBOX", 0);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "INBOX"), &uid, 1,
	    mbox_id(&f, "Trash"), &newuid), 0);
	local_flags(&f, "Trash", newuid, STORE_FLAGS_ADD, STORE_F_FLAGGED,
	    NULL);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.moved, 1);
	ck_assert_uint_eq(f.stats.appended, 0);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "append"), 0);
	/* Without UIDPLUS the moved message's new UID is learnt on the
	 * next pull, and its local flag change goes up then. */
	if (!(caps_variants[_i] & SYNC_CAP_UIDPLUS))
		run_ok(&f);
	assert_mirrored(&f);
	run_ok(&f);
	assert_mirrored(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Trash"), 1);
	ck_assert_uint_eq(local_count(&f, "Trash"), 1);
	fx_teardown(&f);
}
END_TEST

/* Issue 17: a flag set upstream on a message that was moved locally
 * before the sync reaches the local copy in its new folder, and a local
 * flag change made after the move still goes up. */
START_TEST(test_sync_remote_flags_reach_a_locally_moved_message)
{
	struct fx f;
	uint32_t uid, newuid, flags;
	const char *kw;
	size_t i, n;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Archive", 0);
	for (i = 0; i < 3; i++)
		remote_add(&f, "INBOX", (int)i, STORE_F_SEEN, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, "INBOX", 1);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "INBOX"), &uid, 1,
	    mbox_id(&f, "Archive"), &newuid), 0);
	local_flags(&f, "Archive", newuid, STORE_FLAGS_ADD, STORE_F_FLAGGED,
	    NULL);
	ck_assert_int_eq(sync_fake_msg_set_flags(f.fake, "INBOX",
	    remote_uid_at(&f, "INBOX", 1), STORE_F_SEEN | STORE_F_ANSWERED,
	    "$RemoteX"), 0);
	run_ok(&f);
	/* Without UIDPLUS the copy is bound (and merged) by the next pull. */
	if (!(caps_variants[_i] & SYNC_CAP_UIDPLUS))
		run_ok(&f);
	assert_mirrored(&f);
	n = sync_fake_msg_count(f.fake, "Archive");
	ck_assert_uint_eq(n, 1);
	flags = remote_flags_at(&f, "Archive", 0, &kw);
	ck_assert_uint_eq(flags, STORE_F_SEEN | STORE_F_ANSWERED |
	    STORE_F_FLAGGED);
	ck_assert_str_eq(kw, "$RemoteX");
	ck_assert_uint_eq(sync_fake_calls(f.fake, "append"), 0);
	fx_teardown(&f);
}
END_TEST

/* Issue 17: local moves of many messages cost one SELECT of their source
 * folder and one MOVE, not one of each per message. */
START_TEST(test_sync_local_moves_are_batched_per_source_folder)
{
	struct fx f;
	uint32_t uids[8], newuids[8];
	unsigned selects, moves;
	size_t i;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Archive", 0);
	for (i = 0; i < 10; i++)
		remote_add(&f, "INBOX", (int)i, 0, NULL);
	run_ok(&f);
	for (i = 0; i < 8; i++)
		uids[i] = local_uid_at(&f, "INBOX", i);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "INBOX"), uids, 8,
	    mbox_id(&f, "Archive"), newuids), 0);
	selects = sync_fake_calls(f.fake, "select");
	moves = sync_fake_calls(f.fake, "move");
	run_ok(&f);
	ck_assert_uint_eq(f.stats.moved, 8);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "move") - moves, 1);
	/* INBOX and Archive synced, INBOX for the MOVE, Archive again */
	ck_assert_uint_le(sync_fake_calls(f.fake, "select") - selects, 4);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "append"), 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_local_append_sent_once)
{
	struct fx f;
	const char *draft = "Subject: draft\r\nMessage-ID: <d@x>\r\n\r\nhi\r\n";
	struct store_append_opts o = { STORE_F_DRAFT | STORE_F_SEEN, NULL, 0,
	    1700000000, 0, 0 };
	uint32_t uid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Drafts", STORE_SU_DRAFTS);
	run_ok(&f);
	ck_assert_int_eq(store_append_mem(f.st, mbox_id(&f, "Drafts"), &o,
	    draft, strlen(draft), &uid), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.appended, 1);
	/* Without APPENDUID the copy is found by its Message-ID: the next
	 * run binds nothing by content and downloads nothing. */
	ck_assert_uint_eq(sync_fake_calls(f.fake, "search"),
	    caps_variants[_i] & SYNC_CAP_UIDPLUS ? 0 : 1);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.matched, 0);
	ck_assert_uint_eq(f.stats.pulled, 0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "append"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Drafts"), 1);
	ck_assert_uint_eq(local_count(&f, "Drafts"), 1);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* Found by the randomized histories: an upstream change to a message this
 * engine appended in the previous sync (its UID above the UIDNEXT that
 * sync had pulled up to) was never applied here, flags or expunge. */
START_TEST(test_sync_remote_change_to_our_own_append_is_pulled)
{
	struct fx f;
	struct store_append_opts o = { STORE_F_DRAFT, NULL, 0, 1700000000, 0,
	    0 };
	const char *x = "Subject: x\r\nMessage-ID: <x@x>\r\n\r\nx\r\n";
	const char *y = "Subject: y\r\nMessage-ID: <y@x>\r\n\r\ny\r\n";
	uint32_t uid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	remote_add(&f, "INBOX", 0, 0, NULL);
	run_ok(&f);
	ck_assert_int_eq(store_append_mem(f.st, mbox_id(&f, "INBOX"), &o, x,
	    strlen(x), &uid), 0);
	ck_assert_int_eq(store_append_mem(f.st, mbox_id(&f, "INBOX"), &o, y,
	    strlen(y), &uid), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.appended, 2);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 3);
	ck_assert_int_eq(sync_fake_msg_set_flags(f.fake, "INBOX",
	    remote_uid_at(&f, "INBOX", 1), STORE_F_SEEN, "$x"), 0);
	ck_assert_int_eq(sync_fake_msg_expunge(f.fake, "INBOX",
	    remote_uid_at(&f, "INBOX", 2)), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.flags_in, 1);
	ck_assert_uint_eq(f.stats.expunged_in, 1);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* ---- folders -------------------------------------------------------------- */

START_TEST(test_sync_folder_create_rename_delete_both_ways)
{
	struct fx f;
	int64_t id;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Remote1", 0);
	sync_fake_folder_add(f.fake, "GoesRemote", 0);
	sync_fake_folder_add(f.fake, "GoesLocal", 0);
	remote_add(&f, "Remote1", 0, 0, NULL);
	remote_add(&f, "GoesLocal", 0, 0, NULL);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "Local1", 0, &id),
	    0);
	run_ok(&f);
	ck_assert(sync_fake_folder_exists(f.fake, "Local1"));
	ck_assert_int_ne(mbox_id(&f, "Remote1"), 0);
	assert_mirrored(&f);

	/* Renames and deletes on both sides. */
	ck_assert_int_eq(sync_fake_folder_rename(f.fake, "Remote1", "Remote2"),
	    0);
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "Local1",
	    "Local2/Sub"), 0);
	ck_assert_int_eq(sync_fake_folder_delete(f.fake, "GoesRemote"), 0);
	ck_assert_int_eq(store_mailbox_delete(f.st, mbox_id(&f, "GoesLocal")),
	    0);
	run_ok(&f);
	ck_assert(!sync_fake_folder_exists(f.fake, "Local1"));
	ck_assert(sync_fake_folder_exists(f.fake, "Local2/Sub"));
	ck_assert(!sync_fake_folder_exists(f.fake, "GoesLocal"));
	ck_assert_int_eq(mbox_id(&f, "GoesRemote"), 0);
	ck_assert_int_eq(mbox_id(&f, "Remote1"), 0);
	ck_assert_int_ne(mbox_id(&f, "Remote2"), 0);
	ck_assert_uint_eq(local_count(&f, "Remote2"), 1);
	/* The local parent "Local2" is made upstream too. */
	run_ok(&f);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_skip_folders_setting)
{
	struct fx f;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Spam", STORE_SU_JUNK);
	remote_add(&f, "Spam", 0, 0, NULL);
	ck_assert_int_eq(store_account_set(f.st, f.acct, SYNC_KEY_SKIP,
	    "Spam, Other", 11), 0);
	run_ok(&f);
	ck_assert_int_eq(mbox_id(&f, "Spam"), 0);
	fx_teardown(&f);
}
END_TEST

/* Every local UID of a mailbox, in order, as one string. */
static char *
local_uids(struct fx *f, const char *name)
{
	struct store_msg *msgs;
	size_t n, i;
	char *s = xstrdup(""), *t;

	ck_assert_int_eq(store_msg_list(f->st, mbox_id(f, name), 0, &msgs, &n),
	    0);
	for (i = 0; i < n; i++) {
		t = xasprintf("%s %u", s, msgs[i].uid);
		free(s);
		s = t;
	}
	free(msgs);
	return s;
}

/* A remote rename (UIDVALIDITY kept, as Dovecot does) is a local rename:
 * the same mailbox, the same UIDs, nothing fetched; children follow. And
 * a local rename still goes up. With and without LIST-STATUS. */
START_TEST(test_sync_remote_rename_is_local_rename)
{
	unsigned caps = ALLCAPS | (_i ? SYNC_CAP_LIST_STATUS : 0);
	struct fx f;
	int64_t id, child;
	char *uids, *cuids, *after;
	int i;

	fx_setup(&f, caps, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Old", 0);
	sync_fake_folder_add(f.fake, "Old/Sub", 0);
	sync_fake_folder_add(f.fake, "Other", 0);
	for (i = 0; i < 6; i++)
		remote_add(&f, i < 4 ? "Old" : "Old/Sub", i, STORE_F_SEEN,
		    NULL);
	remote_add(&f, "Other", 9, 0, NULL);
	run_ok(&f);
	/* local UIDs that differ from the remote ones */
	local_flags(&f, "Old", local_uid_at(&f, "Old", 0), STORE_FLAGS_ADD,
	    STORE_F_FLAGGED, NULL);
	run_ok(&f);
	id = mbox_id(&f, "Old");
	child = mbox_id(&f, "Old/Sub");
	uids = local_uids(&f, "Old");
	cuids = local_uids(&f, "Old/Sub");

	ck_assert_int_eq(sync_fake_folder_rename(f.fake, "Old", "New"), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 0);
	ck_assert_uint_eq(f.stats.renamed_in, 1);
	ck_assert_int_eq(mbox_id(&f, "Old"), 0);
	ck_assert_int_eq(mbox_id(&f, "New"), id);
	ck_assert_int_eq(mbox_id(&f, "New/Sub"), child);
	after = local_uids(&f, "New");
	ck_assert_str_eq(after, uids);
	free(after);
	after = local_uids(&f, "New/Sub");
	ck_assert_str_eq(after, cuids);
	free(after);
	assert_mirrored(&f);
	/* Flags still go both ways under the new name. */
	local_flags(&f, "New", local_uid_at(&f, "New", 1), STORE_FLAGS_ADD,
	    STORE_F_ANSWERED, NULL);
	run_ok(&f);
	assert_mirrored(&f);

	/* The other way: a local rename goes up as a RENAME. */
	ck_assert_int_eq(store_mailbox_rename(f.st, f.acct, "New", "Back"), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 0);
	ck_assert(sync_fake_folder_exists(f.fake, "Back"));
	ck_assert(sync_fake_folder_exists(f.fake, "Back/Sub"));
	ck_assert(!sync_fake_folder_exists(f.fake, "New"));
	ck_assert_int_eq(mbox_id(&f, "Back"), id);
	assert_mirrored(&f);
	free(uids);
	free(cuids);
	fx_teardown(&f);
}
END_TEST

/* A folder deleted upstream while another is created is not a rename:
 * their UIDVALIDITYs differ. */
START_TEST(test_sync_remote_delete_and_create_is_not_a_rename)
{
	struct fx f;
	int64_t id;

	fx_setup(&f, ALLCAPS | SYNC_CAP_LIST_STATUS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Gone", 0);
	remote_add(&f, "Gone", 1, 0, NULL);
	run_ok(&f);
	id = mbox_id(&f, "Gone");
	ck_assert_int_eq(sync_fake_folder_delete(f.fake, "Gone"), 0);
	sync_fake_folder_add(f.fake, "Fresh", 0);
	remote_add(&f, "Fresh", 1, 0, NULL);
	run_ok(&f);
	ck_assert_int_eq(mbox_id(&f, "Gone"), 0);
	ck_assert_int_ne(mbox_id(&f, "Fresh"), id);
	ck_assert_uint_eq(f.stats.pulled, 1);
	ck_assert_uint_eq(f.stats.renamed_in, 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* Issue 17: Cyrus gives folders made in the same second one UIDVALIDITY.
 * Aaa deleted and Bbb renamed to Ccc upstream: the delete stays a delete
 * and the rename a rename (Ccc holds Bbb's messages, with Bbb's local
 * UIDs). When both held the same messages (_i = 1), nothing tells which
 * one Ccc was: no rename, Ccc is fetched as a new folder. */
START_TEST(test_sync_shared_uidvalidity_delete_is_not_a_rename)
{
	struct fx f;
	int64_t bbb;
	uint32_t uid;
	int i;

	fx_setup(&f, ALLCAPS | SYNC_CAP_LIST_STATUS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Aaa", 0);
	sync_fake_folder_add(f.fake, "Bbb", 0);
	ck_assert_int_eq(sync_fake_folder_set_uidvalidity(f.fake, "Aaa", 777),
	    0);
	ck_assert_int_eq(sync_fake_folder_set_uidvalidity(f.fake, "Bbb", 777),
	    0);
	for (i = 0; i < 3; i++) {
		char *m = msg_text("Aaa", _i ? i : 10 + i);

		remote_add(&f, "Aaa", i, 0, NULL);
		ck_assert_uint_ne(sync_fake_msg_add(f.fake, "Bbb", m,
		    strlen(m), 0, NULL, 1600000000 + i), 0);
		free(m);
	}
	run_ok(&f);
	bbb = mbox_id(&f, "Bbb");
	ck_assert_int_eq(sync_fake_folder_delete(f.fake, "Aaa"), 0);
	ck_assert_int_eq(sync_fake_folder_rename(f.fake, "Bbb", "Ccc"), 0);
	run_ok(&f);
	ck_assert_int_eq(mbox_id(&f, "Aaa"), 0);
	ck_assert_int_eq(mbox_id(&f, "Bbb"), 0);
	ck_assert_uint_eq(f.stats.renamed_in, _i ? 0 : 1);
	ck_assert_uint_eq(f.stats.pulled, _i ? 3 : 0);
	if (!_i)
		ck_assert_int_eq(mbox_id(&f, "Ccc"), bbb);
	assert_mirrored(&f);
	/* A local flag change reaches the same message upstream. */
	uid = local_uid_at(&f, "Ccc", 1);
	local_flags(&f, "Ccc", uid, STORE_FLAGS_ADD, STORE_F_FLAGGED, NULL);
	run_ok(&f);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* Issue 17: a local folder the server will not create is never paired,
 * so no later sync takes it for one deleted upstream: its only message
 * stays. _i = 0: the server refuses (said, kept here only); _i = 1: it
 * claims the folder exists and is wrong. */
START_TEST(test_sync_refused_folder_is_never_deleted_here)
{
	struct logbuf lb;
	struct fx f;
	const char *m = "Subject: only here\r\nMessage-ID: <w@x>\r\n\r\nhi\r\n";
	struct store_append_opts o = { STORE_F_SEEN, NULL, 0, 1700000000, 0,
	    0 };
	int64_t id;
	uint32_t uid;
	int i;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	ck_assert_int_eq(sync_fake_create_refuse(f.fake, "Work", _i ?
	    SYNC_EK_EXISTS : SYNC_EK_NOPERM), 0);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "Work", 0, &id),
	    0);
	ck_assert_int_eq(store_append_mem(f.st, id, &o, m, strlen(m), &uid),
	    0);
	for (i = 0; i < 3; i++) {
		if (_i)
			run(&f);	/* the folder's SELECT fails */
		else
			run_logged(&f, &lb);
		ck_assert_int_eq(mbox_id(&f, "Work"), id);
		ck_assert_uint_eq(local_count(&f, "Work"), 1);
		if (!_i)
			ck_assert_msg(strstr(lb.text, "stays here only") !=
			    NULL, "not said: %s", lb.text);
	}
	ck_assert(!sync_fake_folder_exists(f.fake, "Work"));
	fx_teardown(&f);
}
END_TEST

/* The last-copy rule for a folder deleted upstream: what came from it
 * goes, a message made here since the last sync stays (its only copy),
 * and the folder is made upstream again for it. */
START_TEST(test_sync_remote_folder_delete_keeps_local_only_mail)
{
	struct logbuf lb;
	struct fx f;
	const char *m = "Subject: new here\r\nMessage-ID: <n@x>\r\n\r\nhi\r\n";
	struct store_append_opts o = { STORE_F_FLAGGED, NULL, 0, 1700000000,
	    0, 0 };
	uint32_t uid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Proj", 0);
	remote_add(&f, "Proj", 1, 0, NULL);
	remote_add(&f, "Proj", 2, STORE_F_SEEN, NULL);
	run_ok(&f);
	ck_assert_int_eq(store_append_mem(f.st, mbox_id(&f, "Proj"), &o, m,
	    strlen(m), &uid), 0);
	ck_assert_int_eq(sync_fake_folder_delete(f.fake, "Proj"), 0);
	run_logged(&f, &lb);
	ck_assert_msg(strstr(lb.text, "1 message made here since the last "
	    "sync is kept") != NULL, "not said: %s", lb.text);
	ck_assert_uint_eq(local_count(&f, "Proj"), 1);
	ck_assert(sync_fake_folder_exists(f.fake, "Proj"));
	run_ok(&f);
	assert_mirrored(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Proj"), 1);
	fx_teardown(&f);
}
END_TEST

/* A message the server will not give: skipped, counted, asked for on the
 * next runs; fetched when the server gives it at last; given up after
 * SYNC_REFUSED_TRIES runs, said once; forgotten when it is expunged. */
START_TEST(test_sync_refused_message_retried_then_given_up)
{
	unsigned caps = _i ? ALLCAPS | SYNC_CAP_LIST_STATUS : 0;
	struct logbuf lb;
	struct fx f;
	uint32_t stubborn, shy, gone;
	int i;

	fx_setup(&f, caps, SYNC_PROTO_IMAP);
	if (_i) {
		/* A store from before the table (schema 1): opening it
		 * migrates it. */
		char *cmd = xasprintf("sqlite3 '%s' 'DROP TABLE sync_refused; "
		    "DROP TABLE summary; PRAGMA user_version = 1'", f.path);

		store_close(&f.st);
		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
		ck_assert_int_eq(store_open(f.path, PASS, strlen(PASS), &f.st,
		    NULL, 0), 0);
	}
	for (i = 0; i < 6; i++)
		remote_add(&f, "INBOX", i, 0, NULL);
	stubborn = remote_uid_at(&f, "INBOX", 1);
	shy = remote_uid_at(&f, "INBOX", 3);
	gone = remote_uid_at(&f, "INBOX", 5);
	sync_fake_msg_refuse(f.fake, "INBOX", stubborn, -1);
	sync_fake_msg_refuse(f.fake, "INBOX", shy, 2);
	sync_fake_msg_refuse(f.fake, "INBOX", gone, -1);
	run_logged(&f, &lb);
	ck_assert_uint_eq(f.stats.pulled, 3);
	ck_assert_uint_eq(f.stats.refused, 3);
	ck_assert_uint_eq(f.stats.errors, 3);
	ck_assert_msg(strstr(lb.text, "asked for again") != NULL, "%s",
	    lb.text);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 3);

	/* Second run: shy is refused once more, gone is expunged. */
	ck_assert_int_eq(sync_fake_msg_expunge(f.fake, "INBOX", gone), 0);
	run_logged(&f, &lb);
	ck_assert_uint_eq(f.stats.pulled, 0);
	ck_assert_uint_eq(f.stats.refused, 2);
	/* Third: shy comes at last. */
	run_logged(&f, &lb);
	ck_assert_uint_eq(f.stats.pulled, 1);
	ck_assert_uint_eq(f.stats.refused, 1);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 4);
	/* Fourth and fifth: stubborn's 4th and 5th try, then given up,
	 * said once. */
	run_logged(&f, &lb);
	ck_assert_uint_eq(f.stats.refused, 1);
	ck_assert_ptr_null(strstr(lb.text, "giving up"));
	run_logged(&f, &lb);
	ck_assert_uint_eq(f.stats.refused, 1);
	ck_assert_msg(strstr(lb.text, "giving up") != NULL, "%s", lb.text);
	i = (int)sync_fake_calls(f.fake, "fetch");
	run_logged(&f, &lb);
	ck_assert_uint_eq(f.stats.refused, 0);
	ck_assert_uint_eq(f.stats.errors, 0);
	ck_assert_uint_eq(f.stats.pulled, 0);
	ck_assert_ptr_null(strstr(lb.text, "giving up"));
	if (caps & SYNC_CAP_CONDSTORE)
		ck_assert_int_eq((int)sync_fake_calls(f.fake, "fetch"), i);
	/* With LIST-STATUS the folder is not even selected any more. */
	if (caps & SYNC_CAP_LIST_STATUS)
		ck_assert_uint_eq(f.stats.unselected, 1);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 4);
	/* If it is flagged upstream now, nothing breaks. */
	ck_assert_int_eq(sync_fake_msg_set_flags(f.fake, "INBOX", stubborn,
	    STORE_F_FLAGGED, NULL), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 0);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 4);
	fx_teardown(&f);
}
END_TEST

/* With LIST-STATUS, a resync selects only the folders that changed on
 * either side. */
START_TEST(test_sync_unchanged_folders_are_not_selected)
{
	unsigned caps = (_i ? ALLCAPS & ~SYNC_CAP_QRESYNC : ALLCAPS) |
	    SYNC_CAP_LIST_STATUS;
	struct fx f;
	unsigned sel;
	int i;

	fx_setup(&f, caps, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "A", 0);
	sync_fake_folder_add(f.fake, "B", 0);
	for (i = 0; i < 12; i++)
		remote_add(&f, i % 3 == 0 ? "INBOX" : i % 3 == 1 ? "A" : "B", i,
		    0, NULL);
	run_ok(&f);
	run_ok(&f);
	sel = sync_fake_calls(f.fake, "select");
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "select"), sel);
	ck_assert_uint_eq(f.stats.unselected, 3);

	/* A remote flag change in A: only A is selected. */
	ck_assert_int_eq(sync_fake_msg_set_flags(f.fake, "A",
	    remote_uid_at(&f, "A", 0), STORE_F_SEEN, NULL), 0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "select"), sel + 1);
	ck_assert_uint_eq(f.stats.flags_in, 1);
	/* A local change in B, an expunge upstream in INBOX, new mail in A. */
	local_flags(&f, "B", local_uid_at(&f, "B", 0), STORE_FLAGS_ADD,
	    STORE_F_FLAGGED, NULL);
	ck_assert_int_eq(sync_fake_msg_expunge(f.fake, "INBOX",
	    remote_uid_at(&f, "INBOX", 0)), 0);
	remote_add(&f, "A", 40, 0, NULL);
	sel = sync_fake_calls(f.fake, "select");
	run_ok(&f);
	ck_assert_uint_eq(f.stats.unselected, 0);
	ck_assert_uint_eq(f.stats.pulled, 1);
	ck_assert_uint_eq(f.stats.expunged_in, 1);
	ck_assert_uint_eq(f.stats.flags_out, 1);
	assert_mirrored(&f);
	/* Our own STORE raised B's HIGHESTMODSEQ: the next run looks at B
	 * once more (and finds nothing), then none is selected. */
	run_ok(&f);
	ck_assert_uint_eq(f.stats.flags_in + f.stats.flags_out, 0);
	sel = sync_fake_calls(f.fake, "select");
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "select"), sel);
	ck_assert_uint_eq(f.stats.unselected, 3);
	fx_teardown(&f);
}
END_TEST

/* ---- the last-copy rule ------------------------------------------------------ */

/* A local message of its own, with a Message-ID. */
static uint32_t
local_add(struct fx *f, const char *folder, const char *tag, uint32_t flags)
{
	struct store_append_opts o = { flags, NULL, 0, 1700000000, 0, 0 };
	char *m = xasprintf("Subject: %s\r\nMessage-ID: <%s@here>\r\n\r\n%s\r\n",
	    tag, tag, tag);
	uint32_t uid;

	ck_assert_int_eq(store_append_mem(f->st, mbox_id(f, folder), &o, m,
	    strlen(m), &uid), 0);
	free(m);
	return uid;
}

/* A mailbox deleted here takes upstream what came from it, and only
 * that: _i = 0, nothing new upstream: the folder goes; 1: a message
 * arrived upstream since the last sync: it stays, and the folder comes
 * back here with it; 2: the folder was renumbered upstream meanwhile:
 * nothing there can be told from new mail, it stays whole. */
START_TEST(test_sync_folder_deleted_here_keeps_mail_new_upstream)
{
	struct logbuf lb;
	struct fx f;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Proj", 0);
	remote_add(&f, "Proj", 1, 0, NULL);
	remote_add(&f, "Proj", 2, STORE_F_SEEN, NULL);
	run_ok(&f);
	ck_assert_int_eq(store_mailbox_delete(f.st, mbox_id(&f, "Proj")), 0);
	if (_i == 1)
		remote_add(&f, "Proj", 3, STORE_F_FLAGGED, NULL);
	if (_i == 2)
		sync_fake_folder_reset(f.fake, "Proj");
	run_logged(&f, &lb);
	if (_i == 0) {
		ck_assert(!sync_fake_folder_exists(f.fake, "Proj"));
		ck_assert_int_eq(mbox_id(&f, "Proj"), 0);
	} else {
		ck_assert_msg(strstr(lb.text, _i == 1 ? "did not come from "
		    "here" : "cannot be told") != NULL, "not said: %s",
		    lb.text);
		ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Proj"),
		    _i == 1 ? 1 : 2);
		ck_assert_uint_eq(local_count(&f, "Proj"), _i == 1 ? 1 : 2);
	}
	assert_mirrored(&f);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled + f.stats.appended, 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* Found by the randomized histories (Cyrus): a DELETE the server refused
 * with a NO that reads as "not there" (Cyrus, for a name deleted twice in
 * one second) was taken as done, and the folder stayed upstream while
 * the pair was forgotten. Now it is said and tried again next time. */
START_TEST(test_sync_refused_delete_upstream_is_tried_again)
{
	struct logbuf lb;
	struct fx f;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Proj", 0);
	remote_add(&f, "Proj", 1, 0, NULL);
	run_ok(&f);
	ck_assert_int_eq(store_mailbox_delete(f.st, mbox_id(&f, "Proj")), 0);
	ck_assert_int_eq(sync_fake_folder_undeletable(f.fake, "Proj", 1), 0);
	run_logged(&f, &lb);
	ck_assert_msg(strstr(lb.text, "would not delete the folder") != NULL,
	    "not said: %s", lb.text);
	ck_assert_uint_eq(f.stats.errors, 1);
	ck_assert(sync_fake_folder_exists(f.fake, "Proj"));
	ck_assert_int_eq(mbox_id(&f, "Proj"), 0);
	run_ok(&f);
	ck_assert(!sync_fake_folder_exists(f.fake, "Proj"));
	ck_assert_int_eq(mbox_id(&f, "Proj"), 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* What this engine put in a folder is its own: a mailbox deleted here
 * right after the sync that appended and moved messages into it takes
 * them upstream too (the push caught up with its own UIDs). */
START_TEST(test_sync_folder_deleted_here_after_our_own_appends)
{
	struct fx f;
	uint32_t uid, newuid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Proj", 0);
	remote_add(&f, "Proj", 1, 0, NULL);
	remote_add(&f, "INBOX", 2, 0, NULL);
	run_ok(&f);
	local_add(&f, "Proj", "mine", STORE_F_DRAFT);
	uid = local_uid_at(&f, "INBOX", 0);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "INBOX"), &uid, 1,
	    mbox_id(&f, "Proj"), &newuid), 0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Proj"), 3);
	ck_assert_int_eq(store_mailbox_delete(f.st, mbox_id(&f, "Proj")), 0);
	run_ok(&f);
	ck_assert(!sync_fake_folder_exists(f.fake, "Proj"));
	ck_assert_int_eq(mbox_id(&f, "Proj"), 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* A folder that LIST leaves out but SELECT finds is not taken for one
 * deleted upstream: nothing is deleted here. */
START_TEST(test_sync_unlisted_folder_is_not_deleted_here)
{
	unsigned caps = ALLCAPS | (_i ? SYNC_CAP_LIST_STATUS : 0);
	struct logbuf lb;
	struct fx f;

	fx_setup(&f, caps, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Proj", 0);
	remote_add(&f, "Proj", 1, 0, NULL);
	run_ok(&f);
	ck_assert_int_eq(sync_fake_folder_unlisted(f.fake, "Proj", 1), 0);
	run_logged(&f, &lb);
	ck_assert_msg(strstr(lb.text, "not listed by the server, but there") !=
	    NULL, "not said: %s", lb.text);
	ck_assert_uint_eq(local_count(&f, "Proj"), 1);
	ck_assert_uint_eq(f.stats.expunged_in, 0);
	ck_assert_int_eq(sync_fake_folder_unlisted(f.fake, "Proj", 0), 0);
	run_ok(&f);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* A remote rename onto a name a local mailbox has taken since: both are
 * kept, nothing is deleted here. */
START_TEST(test_sync_remote_rename_onto_a_taken_name_keeps_both)
{
	struct logbuf lb;
	struct fx f;
	int64_t id;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Old", 0);
	remote_add(&f, "Old", 1, 0, NULL);
	remote_add(&f, "Old", 2, 0, NULL);
	run_ok(&f);
	local_flags(&f, "Old", local_uid_at(&f, "Old", 0), STORE_FLAGS_ADD,
	    STORE_F_FLAGGED, NULL);
	ck_assert_int_eq(store_mailbox_create(f.st, f.acct, "New", 0, &id),
	    0);
	local_add(&f, "New", "here", 0);
	ck_assert_int_eq(sync_fake_folder_rename(f.fake, "Old", "New"), 0);
	run_logged(&f, &lb);
	ck_assert_msg(strstr(lb.text, "which is taken here") != NULL,
	    "not said: %s", lb.text);
	run_ok(&f);
	ck_assert_uint_eq(local_count(&f, "Old"), 2);
	ck_assert_uint_eq(local_count(&f, "New"), 3);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* A local copy is a new message with the flags it has here, whatever was
 * done upstream to its source since the last sync, and whichever of the
 * two folders syncs first (_i / 4: the copy's folder sorts after or
 * before the source's). */
START_TEST(test_sync_local_copy_keeps_its_own_flags)
{
	const char *src = _i / 4 ? "Zsrc" : "Asrc";
	const char *dst = _i / 4 ? "Adst" : "Zdst";
	struct fx f;
	uint32_t uid, newuid;
	const char *kw;

	fx_setup(&f, caps_variants[_i % 4], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, src, 0);
	sync_fake_folder_add(f.fake, dst, 0);
	remote_add(&f, src, 1, STORE_F_SEEN, "$orig");
	run_ok(&f);
	uid = local_uid_at(&f, src, 0);
	ck_assert_int_eq(store_msg_copy(f.st, mbox_id(&f, src), &uid, 1,
	    mbox_id(&f, dst), &newuid), 0);
	ck_assert_int_eq(sync_fake_msg_set_flags(f.fake, src,
	    remote_uid_at(&f, src, 0), STORE_F_SEEN | STORE_F_ANSWERED,
	    "$orig $there"), 0);
	run_ok(&f);
	run_ok(&f);
	assert_mirrored(&f);
	ck_assert_uint_eq(remote_flags_at(&f, dst, 0, &kw), STORE_F_SEEN);
	ck_assert_str_eq(kw, "$orig");
	ck_assert_uint_eq(remote_flags_at(&f, src, 0, &kw), STORE_F_SEEN |
	    STORE_F_ANSWERED);
	ck_assert_str_eq(kw, "$orig $there");
	ck_assert_uint_eq(sync_fake_calls(f.fake, "append"),
	    caps_variants[_i % 4] & SYNC_CAP_UIDPLUS ? 0 : 1);
	fx_teardown(&f);
}
END_TEST

/* A local move whose source was expunged upstream meanwhile: the server
 * copies nothing, so the moved message goes up as an APPEND (before, it
 * stayed here only). The destination syncs first: the MOVE is tried. */
START_TEST(test_sync_local_move_of_a_message_gone_upstream_is_appended)
{
	struct fx f;
	uint32_t uid, newuid;
	const char *kw;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Work", 0);
	sync_fake_folder_add(f.fake, "Archive", 0);
	remote_add(&f, "Work", 1, 0, NULL);
	remote_add(&f, "Work", 2, 0, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, "Work", 0);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "Work"), &uid, 1,
	    mbox_id(&f, "Archive"), &newuid), 0);
	local_flags(&f, "Archive", newuid, STORE_FLAGS_ADD, STORE_F_FLAGGED,
	    "$mine");
	ck_assert_int_eq(sync_fake_msg_expunge(f.fake, "Work",
	    remote_uid_at(&f, "Work", 0)), 0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Archive"), 1);
	ck_assert_uint_eq(remote_flags_at(&f, "Archive", 0, &kw),
	    STORE_F_FLAGGED);
	ck_assert_str_eq(kw, "$mine");
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Work"), 1);
	assert_mirrored(&f);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.appended + f.stats.pulled, 0);
	fx_teardown(&f);
}
END_TEST

/* Moved here locally and copied there upstream by another client into
 * the same folder: one message, with the flags of both, and its source
 * gone on both sides, whichever folder syncs first (_i / 4). */
START_TEST(test_sync_local_move_meeting_a_remote_copy_is_one_message)
{
	const char *src = _i / 4 ? "Zsrc" : "Asrc";
	const char *dst = _i / 4 ? "Adst" : "Zdst";
	struct fx f;
	uint32_t uid, newuid, r;
	const char *kw, *data;
	char *copy;
	size_t len;

	fx_setup(&f, caps_variants[_i % 4], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, src, 0);
	sync_fake_folder_add(f.fake, dst, 0);
	remote_add(&f, src, 1, STORE_F_SEEN, NULL);
	remote_add(&f, src, 2, 0, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, src, 0);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, src), &uid, 1,
	    mbox_id(&f, dst), &newuid), 0);
	local_flags(&f, dst, newuid, STORE_FLAGS_ADD, STORE_F_FLAGGED, NULL);
	/* Another client copies the source upstream, and flags the copy. */
	ck_assert_int_eq(sync_fake_msg_at(f.fake, src, 0, &r, NULL, NULL,
	    (const void **)&data, &len), 0);
	copy = xmalloc(len);
	memcpy(copy, data, len);
	r = sync_fake_msg_add(f.fake, dst, copy, len, STORE_F_SEEN |
	    STORE_F_ANSWERED, NULL, 1600000001);
	free(copy);
	ck_assert_uint_ne(r, 0);
	run_ok(&f);
	run_ok(&f);
	assert_mirrored(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, src), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, dst), 1);
	ck_assert_uint_eq(remote_flags_at(&f, dst, 0, &kw), STORE_F_SEEN |
	    STORE_F_ANSWERED | STORE_F_FLAGGED);
	fx_teardown(&f);
}
END_TEST

/* A local move whose destination's push does not happen (its folder is
 * skipped, failing, ...) and whose moved copy is then deleted here: the
 * source's push kept its mark, so the next sync expunges the source
 * upstream instead of leaving it there for good. */
START_TEST(test_sync_move_whose_copy_was_deleted_before_its_push)
{
	struct fx f;
	uint32_t uid, newuid;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Asrc", 0);
	sync_fake_folder_add(f.fake, "Zdst", 0);
	remote_add(&f, "Asrc", 1, 0, NULL);
	remote_add(&f, "Asrc", 2, 0, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, "Asrc", 0);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "Asrc"), &uid, 1,
	    mbox_id(&f, "Zdst"), &newuid), 0);
	ck_assert_int_eq(store_account_set(f.st, f.acct, SYNC_KEY_SKIP, "Zdst",
	    4), 0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Asrc"), 2);
	ck_assert_int_eq(store_msg_expunge(f.st, mbox_id(&f, "Zdst"), &newuid,
	    1), 0);
	ck_assert_int_eq(store_account_set(f.st, f.acct, SYNC_KEY_SKIP, "", 0),
	    0);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Asrc"), 1);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* Found by the randomized histories: a local move or copy (_i / 4) out
 * of a folder renumbered upstream meanwhile, its destination synced
 * first, failed that folder's whole push for this sync. Now the message
 * goes up as new in one sync; a moved one's source comes back (rule 7 of
 * tests/lib/history.py: a deletion in a renumbered folder is not carried
 * over, since it cannot be matched to the renumbered copy). */
START_TEST(test_sync_move_out_of_a_renumbered_folder_in_one_sync)
{
	int move = _i / 4;
	struct fx f;
	uint32_t uid, newuid;

	fx_setup(&f, caps_variants[_i % 4], SYNC_PROTO_IMAP);
	sync_fake_folder_add(f.fake, "Src", 0);
	sync_fake_folder_add(f.fake, "Dst", 0);
	remote_add(&f, "Src", 1, STORE_F_SEEN, NULL);
	remote_add(&f, "Src", 2, 0, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, "Src", 0);
	if (move)
		ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "Src"), &uid,
		    1, mbox_id(&f, "Dst"), &newuid), 0);
	else
		ck_assert_int_eq(store_msg_copy(f.st, mbox_id(&f, "Src"), &uid,
		    1, mbox_id(&f, "Dst"), &newuid), 0);
	local_flags(&f, "Dst", newuid, STORE_FLAGS_ADD, STORE_F_FLAGGED, NULL);
	ck_assert_int_eq(sync_fake_folder_reset(f.fake, "Src"), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.errors, 0);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Dst"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Src"), 2);
	ck_assert_uint_eq(local_count(&f, "Src"), 2);
	assert_mirrored(&f);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.appended + f.stats.pulled, 0);
	fx_teardown(&f);
}
END_TEST

/* Found by the long histories (Dovecot, seed 1809841567): moved here to
 * Zdst, and copied upstream by another client from its source Asrc to
 * Bcopy, whose pull came first. The MOVE must start from the message's
 * source (its local copy gone), not from the copy: else the source stayed
 * upstream for one more sync. */
START_TEST(test_sync_local_move_starts_from_its_source_not_a_copy)
{
	struct fx f;
	uint32_t uid, newuid;
	const char *data;
	char *copy;
	size_t len;

	fx_setup(&f, ALLCAPS, SYNC_PROTO_IMAP);
	/* Bcopy's mailbox is made first, so its identities list first. */
	sync_fake_folder_add(f.fake, "Bcopy", 0);
	sync_fake_folder_add(f.fake, "Asrc", 0);
	sync_fake_folder_add(f.fake, "Zdst", 0);
	remote_add(&f, "Asrc", 1, STORE_F_SEEN, NULL);
	remote_add(&f, "Asrc", 2, 0, NULL);
	run_ok(&f);
	uid = local_uid_at(&f, "Asrc", 0);
	ck_assert_int_eq(store_msg_move(f.st, mbox_id(&f, "Asrc"), &uid, 1,
	    mbox_id(&f, "Zdst"), &newuid), 0);
	ck_assert_int_eq(sync_fake_msg_at(f.fake, "Asrc", 0, NULL, NULL, NULL,
	    (const void **)&data, &len), 0);
	copy = xmalloc(len);
	memcpy(copy, data, len);
	ck_assert_uint_ne(sync_fake_msg_add(f.fake, "Bcopy", copy, len,
	    STORE_F_SEEN, NULL, 1600000001), 0);
	free(copy);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Asrc"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Bcopy"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "Zdst"), 1);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "copy"), 0);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* A message a FLAGS scan (no CONDSTORE) leaves out is not expunged here
 * on that alone: a complete UID listing must say it is gone. */
START_TEST(test_sync_flag_scan_gap_is_no_expunge)
{
	struct fx f;

	fx_setup(&f, _i ? SYNC_CAP_UIDPLUS : 0, SYNC_PROTO_IMAP);
	remote_add(&f, "INBOX", 1, 0, NULL);
	remote_add(&f, "INBOX", 2, 0, NULL);
	run_ok(&f);
	ck_assert_int_eq(sync_fake_msg_hide(f.fake, "INBOX",
	    remote_uid_at(&f, "INBOX", 0), 1), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.expunged_in, 0);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 2);
	/* A real expunge is still seen. */
	ck_assert_int_eq(sync_fake_msg_expunge(f.fake, "INBOX",
	    remote_uid_at(&f, "INBOX", 1)), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.expunged_in, 1);
	assert_mirrored(&f);
	fx_teardown(&f);
}
END_TEST

/* ---- crash and resume ------------------------------------------------------- */

/*
 * A sync with something of every kind to do: new folders both ways, new
 * messages both ways, flag changes both ways, expunges both ways, a move,
 * a rename. Built after one clean initial sync.
 */
static void
scenario(struct fx *f)
{
	struct store_append_opts o = { STORE_F_DRAFT, NULL, 0, 1700000000, 0,
	    0 };
	const char *draft = "Subject: d\r\nMessage-ID: <draft@x>\r\n\r\nd\r\n";
	uint32_t uid, newuid;
	int64_t id;
	int i;

	sync_fake_folder_add(f->fake, "Work", 0);
	sync_fake_folder_add(f->fake, "Old", 0);
	sync_fake_folder_add(f->fake, "Drafts", STORE_SU_DRAFTS);
	for (i = 0; i < 6; i++)
		remote_add(f, "INBOX", i, 0, NULL);
	remote_add(f, "Work", 0, 0, NULL);
	remote_add(f, "Old", 0, 0, NULL);
	run_ok(f);

	sync_fake_folder_add(f->fake, "NewRemote", 0);
	remote_add(f, "NewRemote", 0, 0, NULL);
	remote_add(f, "NewRemote", 1, STORE_F_SEEN, NULL);
	remote_add(f, "INBOX", 10, 0, NULL);
	remote_add(f, "INBOX", 11, 0, NULL);
	sync_fake_msg_set_flags(f->fake, "INBOX", remote_uid_at(f, "INBOX", 0),
	    STORE_F_SEEN, NULL);
	sync_fake_msg_expunge(f->fake, "INBOX", remote_uid_at(f, "INBOX", 1));

	ck_assert_int_eq(store_mailbox_create(f->st, f->acct, "NewLocal", 0,
	    &id), 0);
	ck_assert_int_eq(store_append_mem(f->st, id, NULL, "Subject: n\r\n"
	    "\r\nn\r\n", 16, &uid), 0);
	ck_assert_int_eq(store_append_mem(f->st, mbox_id(f, "Drafts"), &o,
	    draft, strlen(draft), &uid), 0);
	local_flags(f, "INBOX", local_uid_at(f, "INBOX", 2), STORE_FLAGS_ADD,
	    STORE_F_FLAGGED, "urgent");
	uid = local_uid_at(f, "INBOX", 3);
	ck_assert_int_eq(store_msg_expunge(f->st, mbox_id(f, "INBOX"), &uid,
	    1), 0);
	uid = local_uid_at(f, "INBOX", 3);
	ck_assert_int_eq(store_msg_move(f->st, mbox_id(f, "INBOX"), &uid, 1,
	    mbox_id(f, "Work"), &newuid), 0);
	ck_assert_int_eq(store_mailbox_rename(f->st, f->acct, "Old", "Older"),
	    0);
}

/* What the scenario must end as, whatever happened on the way. */
static void
assert_scenario_done(struct fx *f)
{
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "INBOX"), 5);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Work"), 2);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Drafts"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "NewLocal"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Older"), 1);
	ck_assert(!sync_fake_folder_exists(f->fake, "Old"));
	ck_assert_uint_eq(local_count(f, "NewRemote"), 2);
	assert_mirrored(f);
}

START_TEST(test_sync_uninterrupted_scenario)
{
	struct fx f;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	scenario(&f);
	run_ok(&f);
	assert_scenario_done(&f);
	fx_teardown(&f);
}
END_TEST

/*
 * Cut the connection at every step of the scenario's sync, before and
 * after the step takes effect; a second run must finish it.
 */
START_TEST(test_sync_crash_at_every_step_resumes)
{
	unsigned caps = caps_variants[_i / 2];
	int after = _i % 2;
	struct fx f;
	long n;
	int rc;

	for (n = 1;; n++) {
		fx_setup(&f, caps, SYNC_PROTO_IMAP);
		scenario(&f);
		sync_fake_fail_at(f.fake, n, after);
		rc = run(&f);
		if (rc == SYNC_OK) {
			/* Past the last step: nothing failed. */
			assert_scenario_done(&f);
			fx_teardown(&f);
			break;
		}
		ck_assert_int_eq(rc, SYNC_FAIL_RETRY);
		run_ok(&f);
		assert_scenario_done(&f);
		run_ok(&f);
		ck_assert_msg(f.stats.pulled + f.stats.appended +
		    f.stats.flags_out + f.stats.flags_in == 0,
		    "step %ld: third run still had work", n);
		fx_teardown(&f);
	}
	ck_assert_int_gt(n, 20);
}
END_TEST

/* ---- POP3 ------------------------------------------------------------------ */

START_TEST(test_sync_pop3_fetch_by_uidl_no_refetch)
{
	struct fx f;
	int i;

	fx_setup(&f, 0, SYNC_PROTO_POP3);
	for (i = 0; i < 5; i++)
		remote_add(&f, "INBOX", i, 0, NULL);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 5);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 5);
	remote_add(&f, "INBOX", 5, 0, NULL);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 1);
	ck_assert_uint_eq(sync_fake_calls(f.fake, "retr"), 6);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 6);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 6);
	assert_folder_mirrored(&f, "INBOX");
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_pop3_delete_after_fetch)
{
	struct fx f;
	int i;

	fx_setup(&f, 0, SYNC_PROTO_POP3);
	ck_assert_int_eq(store_account_set(f.st, f.acct, SYNC_KEY_KEEP, "no",
	    2), 0);
	for (i = 0; i < 4; i++)
		remote_add(&f, "INBOX", i, 0, NULL);
	run_ok(&f);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 4);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 0);
	ck_assert_uint_eq(f.stats.deleted_pop3, 4);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_pop3_delete_after_days)
{
	struct fx f;
	char uidl[64];
	uint32_t uid;
	int i;

	fx_setup(&f, 0, SYNC_PROTO_POP3);
	ck_assert_int_eq(store_account_set(f.st, f.acct, SYNC_KEY_DELETE_DAYS,
	    "3", 1), 0);
	for (i = 0; i < 3; i++)
		remote_add(&f, "INBOX", i, 0, NULL);
	run_ok(&f);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 3);
	/* Pretend the first was fetched four days ago. */
	uid = remote_uid_at(&f, "INBOX", 0);
	snprintf(uidl, sizeof(uidl), "u1000.%u", uid);
	ck_assert_int_eq(store_sync_pop3_put(f.st, f.acct, uidl,
	    (int64_t)time(NULL) - 4 * 86400), 0);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.deleted_pop3, 1);
	ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 2);
	ck_assert_uint_eq(local_count(&f, "INBOX"), 3);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled, 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_sync_pop3_keep_is_default_and_crash_safe)
{
	struct fx f;
	long n;
	int i, rc;

	for (n = 1;; n++) {
		fx_setup(&f, 0, SYNC_PROTO_POP3);
		for (i = 0; i < 4; i++)
			remote_add(&f, "INBOX", i, 0, NULL);
		sync_fake_fail_at(f.fake, n, n % 2);
		rc = run(&f);
		sync_fake_fail_at(f.fake, 0, 0);
		run_ok(&f);
		ck_assert_uint_eq(local_count(&f, "INBOX"), 4);
		ck_assert_uint_eq(sync_fake_msg_count(f.fake, "INBOX"), 4);
		fx_teardown(&f);
		if (rc == SYNC_OK)
			break;
	}
	ck_assert_int_gt(n, 5);
}
END_TEST

START_TEST(test_sync_settings_are_checked)
{
	char err[256];

	ck_assert_int_eq(sync_setting_check("keep", "no", err, sizeof(err)),
	    0);
	ck_assert_int_eq(sync_setting_check("keep", "maybe", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sync_setting_check("delete-after-days", "7", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(sync_setting_check("delete-after-days", "x", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sync_setting_check("password", "x", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(sync_setting_check("tls", "none", err, sizeof(err)),
	    0);
	ck_assert_int_eq(sync_setting_check("port", "0", err, sizeof(err)),
	    -1);
	ck_assert(sync_setting_is_secret("password"));
}
END_TEST

/*
 * Every last-copy path at once, after a clean initial sync: a folder
 * deleted here while mail arrived there; a folder deleted there while
 * mail was made here; a local move meeting a remote copy; a local move
 * of a message expunged upstream; a local copy of a message flagged
 * upstream.
 */
static void
lastcopy_scenario(struct fx *f)
{
	uint32_t uid, newuid;
	const char *data;
	char *copy;
	size_t len;
	int i;

	for (i = 0; i < 6; i++)
		sync_fake_folder_add(f->fake, (const char *[]){ "Proj", "Gone",
		    "Asrc", "Zdst", "Work", "Archive" }[i], 0);
	remote_add(f, "Proj", 1, 0, NULL);
	remote_add(f, "Gone", 2, 0, NULL);
	remote_add(f, "Asrc", 3, 0, NULL);
	remote_add(f, "Work", 4, 0, NULL);
	remote_add(f, "INBOX", 5, STORE_F_SEEN, NULL);
	run_ok(f);

	ck_assert_int_eq(store_mailbox_delete(f->st, mbox_id(f, "Proj")), 0);
	remote_add(f, "Proj", 6, 0, NULL);
	ck_assert_int_eq(sync_fake_folder_delete(f->fake, "Gone"), 0);
	local_add(f, "Gone", "made-here", STORE_F_FLAGGED);
	uid = local_uid_at(f, "Asrc", 0);
	ck_assert_int_eq(store_msg_move(f->st, mbox_id(f, "Asrc"), &uid, 1,
	    mbox_id(f, "Zdst"), &newuid), 0);
	ck_assert_int_eq(sync_fake_msg_at(f->fake, "Asrc", 0, NULL, NULL, NULL,
	    (const void **)&data, &len), 0);
	copy = xmalloc(len);
	memcpy(copy, data, len);
	ck_assert_uint_ne(sync_fake_msg_add(f->fake, "Zdst", copy, len,
	    STORE_F_ANSWERED, NULL, 1600000003), 0);
	free(copy);
	uid = local_uid_at(f, "Work", 0);
	ck_assert_int_eq(store_msg_move(f->st, mbox_id(f, "Work"), &uid, 1,
	    mbox_id(f, "Archive"), &newuid), 0);
	ck_assert_int_eq(sync_fake_msg_expunge(f->fake, "Work",
	    remote_uid_at(f, "Work", 0)), 0);
	uid = local_uid_at(f, "INBOX", 0);
	ck_assert_int_eq(store_msg_copy(f->st, mbox_id(f, "INBOX"), &uid, 1,
	    mbox_id(f, "Archive"), &newuid), 0);
	ck_assert_int_eq(sync_fake_msg_set_flags(f->fake, "INBOX",
	    remote_uid_at(f, "INBOX", 0), STORE_F_SEEN | STORE_F_FLAGGED, NULL),
	    0);
}

static void
assert_lastcopy_done(struct fx *f)
{
	const char *kw;

	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Proj"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Gone"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Asrc"), 0);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Zdst"), 1);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Work"), 0);
	ck_assert_uint_eq(sync_fake_msg_count(f->fake, "Archive"), 2);
	ck_assert_uint_eq(remote_flags_at(f, "INBOX", 0, &kw), STORE_F_SEEN |
	    STORE_F_FLAGGED);
	assert_mirrored(f);
}

START_TEST(test_sync_lastcopy_uninterrupted)
{
	struct fx f;

	fx_setup(&f, caps_variants[_i], SYNC_PROTO_IMAP);
	lastcopy_scenario(&f);
	run_ok(&f);
	assert_lastcopy_done(&f);
	run_ok(&f);
	ck_assert_uint_eq(f.stats.pulled + f.stats.appended + f.stats.moved +
	    f.stats.expunged_in + f.stats.expunged_out, 0);
	fx_teardown(&f);
}
END_TEST

/* The last-copy scenario cut at every step, before and after the step
 * takes effect: a second run ends as an uninterrupted one. */
START_TEST(test_sync_lastcopy_crash_at_every_step_resumes)
{
	/* The extremes only: the other variants cost time and show no
	 * path these two do not. */
	unsigned caps = _i / 2 ? ALLCAPS : 0;
	int after = _i % 2;
	struct fx f;
	long n;
	int rc;

	for (n = 1;; n++) {
		fx_setup(&f, caps, SYNC_PROTO_IMAP);
		lastcopy_scenario(&f);
		sync_fake_fail_at(f.fake, n, after);
		rc = run(&f);
		if (rc == SYNC_OK) {
			assert_lastcopy_done(&f);
			fx_teardown(&f);
			break;
		}
		ck_assert_int_eq(rc, SYNC_FAIL_RETRY);
		run_ok(&f);
		assert_lastcopy_done(&f);
		run_ok(&f);
		ck_assert_msg(f.stats.pulled + f.stats.appended +
		    f.stats.flags_out + f.stats.flags_in == 0,
		    "step %ld: third run still had work", n);
		fx_teardown(&f);
	}
	ck_assert_int_gt(n, 20);
}
END_TEST

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *
sync_suite(void)
{
	Suite *s = suite_create("sync");
	int nv = (int)ARRAY_SIZE(caps_variants);
	TCase *tc;

	tc = tcase(s, "pull");
	tcase_add_test(tc, test_sync_initial_pull_mirrors_every_folder);
	tcase_add_test(tc,
	    test_sync_no_change_resync_reads_no_flags_with_condstore);
	tcase_add_loop_test(tc, test_sync_incremental_changes_both_ways, 0, nv);
	tcase_add_loop_test(tc, test_sync_three_way_merge_keeps_both_sides_changes,
	    0, nv);
	tcase_add_loop_test(tc, test_sync_expunge_wins_over_flag_change, 0, nv);
	tcase_add_test(tc, test_sync_nomodseq_folder_falls_back_to_flag_scan);
	tcase_add_loop_test(tc,
	    test_sync_uidvalidity_reset_rematches_without_duplicates, 0, nv);
	tc = tcase(s, "push");
	tcase_add_loop_test(tc, test_sync_local_move_becomes_remote_move, 0, nv);
	tcase_add_loop_test(tc, test_sync_local_append_sent_once, 0, nv);
	tcase_add_loop_test(tc,
	    test_sync_remote_change_to_our_own_append_is_pulled, 0, nv);
	tcase_add_loop_test(tc,
	    test_sync_remote_flags_reach_a_locally_moved_message, 0, nv);
	tcase_add_test(tc, test_sync_local_moves_are_batched_per_source_folder);
	tc = tcase(s, "folders");
	tcase_add_test(tc, test_sync_folder_create_rename_delete_both_ways);
	tcase_add_test(tc, test_sync_skip_folders_setting);
	tcase_add_loop_test(tc, test_sync_remote_rename_is_local_rename, 0, 2);
	tcase_add_test(tc, test_sync_remote_delete_and_create_is_not_a_rename);
	tcase_add_loop_test(tc,
	    test_sync_shared_uidvalidity_delete_is_not_a_rename, 0, 2);
	tcase_add_loop_test(tc, test_sync_refused_folder_is_never_deleted_here,
	    0, 2);
	tcase_add_loop_test(tc,
	    test_sync_remote_folder_delete_keeps_local_only_mail, 0, nv);
	tcase_add_loop_test(tc, test_sync_unchanged_folders_are_not_selected, 0,
	    2);
	tcase_add_loop_test(tc, test_sync_refused_message_retried_then_given_up,
	    0, 2);
	tc = tcase(s, "lastcopy");
	tcase_add_loop_test(tc,
	    test_sync_folder_deleted_here_keeps_mail_new_upstream, 0, 3);
	tcase_add_loop_test(tc,
	    test_sync_folder_deleted_here_after_our_own_appends, 0, nv);
	tcase_add_test(tc, test_sync_refused_delete_upstream_is_tried_again);
	tcase_add_loop_test(tc, test_sync_unlisted_folder_is_not_deleted_here,
	    0, 2);
	tcase_add_test(tc, test_sync_remote_rename_onto_a_taken_name_keeps_both);
	tcase_add_loop_test(tc, test_sync_local_copy_keeps_its_own_flags, 0,
	    2 * nv);
	tcase_add_loop_test(tc,
	    test_sync_local_move_of_a_message_gone_upstream_is_appended, 0, nv);
	tcase_add_loop_test(tc,
	    test_sync_local_move_meeting_a_remote_copy_is_one_message, 0,
	    2 * nv);
	tcase_add_loop_test(tc,
	    test_sync_move_whose_copy_was_deleted_before_its_push, 0, nv);
	tcase_add_loop_test(tc,
	    test_sync_move_out_of_a_renumbered_folder_in_one_sync, 0, 2 * nv);
	tcase_add_test(tc, test_sync_local_move_starts_from_its_source_not_a_copy);
	tcase_add_loop_test(tc, test_sync_flag_scan_gap_is_no_expunge, 0, 2);
	tc = tcase(s, "crash");
	tcase_add_loop_test(tc, test_sync_uninterrupted_scenario, 0, nv);
	tcase_add_loop_test(tc, test_sync_crash_at_every_step_resumes, 0,
	    2 * nv);
	tcase_add_loop_test(tc, test_sync_lastcopy_uninterrupted, 0, nv);
	tcase_add_loop_test(tc, test_sync_lastcopy_crash_at_every_step_resumes,
	    0, 4);
	tc = tcase(s, "pop3");
	tcase_add_test(tc, test_sync_pop3_fetch_by_uidl_no_refetch);
	tcase_add_test(tc, test_sync_pop3_delete_after_fetch);
	tcase_add_test(tc, test_sync_pop3_delete_after_days);
	tcase_add_test(tc, test_sync_pop3_keep_is_default_and_crash_safe);
	tc = tcase(s, "settings");
	tcase_add_test(tc, test_sync_settings_are_checked);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sync_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
