/*
 * feed: telling sessions that a mailbox changed.
 *
 * Every open handle of this process has an eventfd and sits in one
 * process-wide list (under a mutex). A commit that changes something
 * writes to all of them, so a session waiting in IDLE, or polling its
 * socket and its handle's descriptor together, wakes at once. Commits by
 * another process (a CLI import while the daemon serves) cannot reach our
 * descriptors; they show up in PRAGMA data_version, which
 * store_wait_change() polls every 500 ms.
 */
#include "store/store_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/util.h"

#define POLL_SLICE_MS	500

static pthread_mutex_t feed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *feed_head;

static const char SQL_DATA_VERSION[] = "PRAGMA data_version";
static const char SQL_STATE[] =
    "SELECT highestmodseq, uidnext, "
    "(SELECT count(*) FROM message WHERE mailbox = ?1) "
    "FROM mailbox WHERE id = ?1";

static int64_t
data_version(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, SQL_DATA_VERSION);
	int64_t v = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int
store_feed_register(struct store *st)
{
	st->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (st->evfd < 0)
		return store_err(st, STORE_ERR, "could not make an event "
		    "descriptor: %s", strerror(errno));
	st->data_version = data_version(st);
	pthread_mutex_lock(&feed_lock);
	st->feed_prev = NULL;
	st->feed_next = feed_head;
	if (feed_head != NULL)
		feed_head->feed_prev = st;
	feed_head = st;
	pthread_mutex_unlock(&feed_lock);
	return 0;
}

void
store_feed_unregister(struct store *st)
{
	if (st->evfd < 0)
		return;
	pthread_mutex_lock(&feed_lock);
	if (st->feed_prev != NULL)
		st->feed_prev->feed_next = st->feed_next;
	else
		feed_head = st->feed_next;
	if (st->feed_next != NULL)
		st->feed_next->feed_prev = st->feed_prev;
	pthread_mutex_unlock(&feed_lock);
	close(st->evfd);
	st->evfd = -1;
}

void
store_feed_notify(void)
{
	uint64_t one = 1;
	struct store *st;
	ssize_t r;

	pthread_mutex_lock(&feed_lock);
	for (st = feed_head; st != NULL; st = st->feed_next) {
		/* EAGAIN only if the counter is near overflow: still awake. */
		r = write(st->evfd, &one, sizeof(one));
		(void)r;
	}
	pthread_mutex_unlock(&feed_lock);
}

int
store_change_fd(struct store *st)
{
	return st->evfd;
}

void
store_change_ack(struct store *st)
{
	uint64_t v;
	ssize_t r;

	r = read(st->evfd, &v, sizeof(v));
	(void)r;
}

int
store_changed_elsewhere(struct store *st)
{
	int64_t v = data_version(st);

	if (v == st->data_version)
		return 0;
	st->data_version = v;
	return 1;
}

struct mbox_state {
	uint64_t highestmodseq;
	uint32_t uidnext;
	uint64_t messages;
};

static int
mbox_state(struct store *st, int64_t mbox, struct mbox_state *ms)
{
	sqlite3_stmt *s;
	int rc = store_query_row(st, SQL_STATE, mbox, "read the mailbox", &s);

	if (rc != 0)
		return store_enoent(st, rc, STORE_NO_MAILBOX);
	ms->highestmodseq = (uint64_t)sqlite3_column_int64(s, 0);
	ms->uidnext = (uint32_t)sqlite3_column_int64(s, 1);
	ms->messages = (uint64_t)sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return 0;
}

int
store_wait_change(struct store *st, int64_t mbox, uint64_t since,
    int timeout_ms)
{
	struct mbox_state first, now;
	struct pollfd pfd;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int64_t left;
	int rc, slice, woke;

	if ((rc = mbox_state(st, mbox, &first)) != 0)
		return rc;
	if (first.highestmodseq > since)
		return 1;
	(void)store_changed_elsewhere(st);
	for (;;) {
		slice = POLL_SLICE_MS;
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left <= 0)
				return 0;
			if (left < slice)
				slice = (int)left;
		}
		pfd.fd = st->evfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, slice);
		if (rc < 0 && errno != EINTR)
			return store_err(st, STORE_ERR, "could not wait for "
			    "changes: %s", strerror(errno));
		woke = rc > 0;
		if (woke)
			store_change_ack(st);
		if (!woke && !store_changed_elsewhere(st))
			continue;
		rc = mbox_state(st, mbox, &now);
		if (rc == STORE_ENOENT)
			return 1;	/* deleted: that is a change too */
		if (rc != 0)
			return rc;
		if (now.highestmodseq > since || now.uidnext != first.uidnext ||
		    now.messages != first.messages)
			return 1;
	}
}
