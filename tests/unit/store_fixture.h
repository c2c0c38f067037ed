/*
 * store_fixture: the scratch store the store/ test suites share. Each
 * test makes its own store (one account, its INBOX) in a fresh folder
 * under /tmp with the cheapest KDF, and removes it at the end; poke() and
 * count() reach the SQLite file behind the store's back, as an attacker
 * (or a crash) with the file would.
 *
 * Header-only (static inline) because each suite is its own program and
 * uses a different part of it.
 */
#ifndef MAILVAULT_TESTS_STORE_FIXTURE_H
#define MAILVAULT_TESTS_STORE_FIXTURE_H

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/store.h"

#define FX_PASS	"correct horse"

struct fx {
	char	 dir[64];
	char	*path;
	struct store *st;
	int64_t	 acct;
	int64_t	 inbox;
};

/* A handle on the store at path (not necessarily the fixture's). */
static inline struct store *
fx_store_at(const char *path)
{
	char err[STORE_ERRMSG_MAX];
	struct store *st = NULL;
	int rc = store_open(path, FX_PASS, strlen(FX_PASS), &st, err,
	    sizeof(err));

	ck_assert_msg(rc == 0, "open: %s", err);
	return st;
}

static inline void
fx_open(struct fx *f)
{
	f->st = fx_store_at(f->path);
}

static inline void
fx_reopen(struct fx *f)
{
	store_close(&f->st);
	fx_open(f);
}

/* A new store at the fixture folder's file rel (missing folders made). */
static inline void
fx_setup_at(struct fx *f, const char *rel)
{
	char err[STORE_ERRMSG_MAX];
	struct store_mailbox mb;
	int rc;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/mvtest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	f->path = xasprintf("%s/%s", f->dir, rel);
	rc = store_create(f->path, FX_PASS, strlen(FX_PASS), STORE_KDF_MIN,
	    err, sizeof(err));
	ck_assert_msg(rc == 0, "create: %s", err);
	fx_open(f);
	ck_assert_int_eq(store_account_create(f->st, "me@example.org",
	    &f->acct), 0);
	ck_assert_int_eq(store_mailbox_find(f->st, f->acct, "INBOX", &mb), 0);
	f->inbox = mb.id;
	store_mailbox_clear(&mb);
}

static inline void
fx_setup(struct fx *f)
{
	fx_setup_at(f, "store.db");
}

static inline void
fx_teardown(struct fx *f)
{
	char *cmd;

	store_close(&f->st);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(f->path);
}

/* Run SQL against the store file behind the store's back. */
static inline void
poke(struct fx *f, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(f->path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "poke: %s", msg ? msg : "?");
	sqlite3_close(db);
}

/* The first column of the first row of sql, read behind the store's
 * back; -1 when there is no row. */
static inline int64_t
count(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	ck_assert_int_eq(sqlite3_open(f->path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

#endif
