/*
 * shared: the state an epoch shares with every session of both
 * protocols (struct server_shared, server_int.h): making and destroying
 * it, numbering sessions, and opening a session's own store handle from
 * the epoch's parent handle.
 *
 * The parent handle is only ever touched under sh->lock: server.c drops
 * it (store_close) under the same lock when mailvault is locked, so
 * reading it, opening from it and reading its error text all happen
 * inside one critical section.
 */
#include "server/server_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"

int
server_env_int(const char *name, int def, int max)
{
	const char *v = getenv(name);
	uint64_t n;

	if (v == NULL || parse_u64(v, (uint64_t)max, &n) < 0)
		return def;
	return (int)n;
}

void
server_shared_init(struct server_shared *sh, unsigned first_id)
{
	memset(sh, 0, sizeof(*sh));
	pthread_mutex_init(&sh->lock, NULL);
	sh->next_id = first_id;
	sh->auth_delay_ms = server_env_int("MAILVAULT_AUTH_DELAY_MS",
	    SERVER_AUTH_DELAY_MS, 60000);
}

void
server_shared_destroy(struct server_shared *sh)
{
	pthread_mutex_destroy(&sh->lock);
}

unsigned
server_shared_session_id(struct server_shared *sh)
{
	unsigned id;

	pthread_mutex_lock(&sh->lock);
	id = ++sh->next_id;
	pthread_mutex_unlock(&sh->lock);
	return id;
}

int
server_shared_locking(struct server_shared *sh)
{
	int locking;

	pthread_mutex_lock(&sh->lock);
	locking = sh->locking;
	pthread_mutex_unlock(&sh->lock);
	return locking;
}

int
server_shared_open_store(struct server_shared *sh, struct store **st_r,
    char *err, size_t errlen)
{
	int rc = 0;

	if (*st_r != NULL)
		return 0;
	pthread_mutex_lock(&sh->lock);
	if (sh->st == NULL)
		rc = seterr(err, errlen, 1, "mailvault is locked");
	else if (store_open_shared(sh->st, st_r) != 0)
		rc = seterr(err, errlen, -1, "cannot open the store: %s",
		    store_errmsg(sh->st));
	pthread_mutex_unlock(&sh->lock);
	return rc;
}
