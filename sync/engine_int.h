/*
 * engine_int: what the engine's files (sync/engine.c, engine_folder.c,
 * engine_pop3.c) share and nobody else sees: the state of one run over
 * one account, and the calls between the three files.
 *
 * engine.c starts a run (sync_account(), sync_account_with()), connects
 * the driver, follows folder creates, renames and deletes, then hands
 * each paired folder to sync_folder_run() (engine_folder.c) or the
 * maildrop to sync_pop3_run() (engine_pop3.c). Drivers never see a
 * struct sync_run: they get only the calls of sync/driver.h.
 */
#ifndef MAILVAULT_SYNC_ENGINE_INT_H
#define MAILVAULT_SYNC_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sync/driver.h"

struct store;
struct store_sync_folder;
struct sync_opts;
struct sync_stats;

/*
 * One run over one account. The engine's files share it; drivers never
 * see it.
 */
struct sync_run {
	struct store	*st;		/* the run's own handle */
	int64_t		 acct;
	const char	*acct_name;
	struct sync_driver *d;
	const struct sync_opts *o;
	struct sync_stats *stats;
	struct sync_error err;		/* the error that stopped the run */
	struct sync_progress_state {
		uint64_t msgs_done, msgs_total;
		uint64_t bytes_done, bytes_total;
		const char *folder;
		int64_t	 last_ms;
	} prog;
	char		**skip;		/* folders not to sync */
	size_t		 nskip;
	struct store_sync_folder *pairs; /* the account's pairs, this run */
	size_t		 npairs;
	struct sync_folder *remote;	/* the remote folders, as listed */
	size_t		 nremote;
};

/* Runs that ask again for a message the server refused to give, before
 * the engine gives up on it (and says so once). */
#define SYNC_REFUSED_TRIES	5

/* Report progress (throttled unless force). */
void	sync_run_progress(struct sync_run *r, int force);
/* Log a line through the caller's log callback. */
void	sync_run_log(struct sync_run *r, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Record a store failure as the run's error (account scope); returns -1. */
int	sync_run_store_err(struct sync_run *r, const char *doing);
/* 1 if the cancel descriptor is readable. */
int	sync_run_cancelled(struct sync_run *r);
/* Sync one paired folder both ways (sync/engine_folder.c). 0, or -1 with
 * r->err set; folder-scope errors are for the caller to log and skip. */
int	sync_folder_run(struct sync_run *r, struct store_sync_folder *p);
/*
 * Do the messages say that remote folder name is pair p's folder renamed
 * (sync/engine_folder.c)? Some of p's known messages are looked up there
 * by UID (a RENAME keeps UIDs) and compared by size, internal date and
 * Message-ID. 1: some are there and none differs; 0: no evidence (p
 * knows no message, none is there, another UIDVALIDITY); -1: a known UID
 * holds another message; -2: account-scope failure (r->err). The
 * selected folder changes.
 */
int	sync_folder_same(struct sync_run *r, const struct store_sync_folder *p,
	    const char *name);
/* Fetch from a POP3 maildrop (sync/engine_pop3.c). 0 or -1. */
int	sync_pop3_run(struct sync_run *r);

#endif
