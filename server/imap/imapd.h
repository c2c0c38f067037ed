/*
 * imapd: what server/server.c needs from the IMAP sessions (private to
 * server/).
 *
 * server.c owns one struct imapd_shared for the whole server: the parent
 * store handle (only ever used, under the lock, to open each session's
 * own handle), the TLS context, the limits, the failed-login count and
 * the cache of big mailboxes' message lists (view.c). Each accepted
 * connection runs imapd_session_run() on its own thread,
 * top to bottom, until the client logs out, the connection drops, it
 * times out, or the server shuts down (then it says "* BYE").
 */
#ifndef MAILVAULT_SERVER_IMAP_IMAPD_H
#define MAILVAULT_SERVER_IMAP_IMAPD_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

struct imapd_listcache;
struct store;
struct tls_ctx;

#define IMAPD_TIMEOUT_MS	(30 * 60 * 1000)	/* RFC 3501: >= 30 min */
#define IMAPD_APPEND_MAX	(64ULL * 1024 * 1024)	/* largest APPEND */
#define IMAPD_AUTH_DELAY_MS	500	/* the first failed login's delay */

struct imapd_shared {
	pthread_mutex_t	 lock;		/* guards st, the counters, cache */
	struct store	*st;		/* parent handle of this epoch
					 * (server.c), NULL while locked */
	int		 locking;	/* ended by a lock, not a stop */
	struct tls_ctx	*tls;		/* NULL: no STARTTLS, no IMAPS */
	int		 timeout_ms;	/* idle timeout */
	int		 auth_delay_ms;	/* first failure's delay */
	int		 debug;		/* log command names */
	unsigned	 next_id;	/* session numbers, under lock */
	unsigned	 auth_failures;	/* recent failures, under lock */
	int64_t		 last_failure_ms; /* under lock */
	struct imapd_listcache *cache;	/* big mailboxes' lists, under lock */
};

/*
 * Serve one connection: fd is a connected socket, owned by the session
 * from now on (closed before returning). implicit_tls: IMAPS.
 * shutdown_fd becomes readable when the server stops.
 */
void	imapd_session_run(struct imapd_shared *sh, int fd, int implicit_tls,
	    int shutdown_fd, const struct sockaddr *peer);

/* Free the list cache (when no session runs); NULL is fine. */
void	imapd_listcache_free(struct imapd_listcache **c);

/* Write one log line to stderr (whole lines, under a lock). */
void	imapd_log_line(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
