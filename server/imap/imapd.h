/*
 * imapd: what server/server.c needs from the IMAP sessions (private to
 * server/).
 *
 * server.c fills one struct imapd_config per epoch (imapd_config_init()):
 * IMAP's own settings and the cache of big mailboxes' message lists
 * (view.c), beside a pointer to the epoch's struct server_shared (the
 * parent store handle and its lock, the TLS context, session numbers
 * and the login throttle it shares with POP3, server_int.h). Each
 * accepted connection runs imapd_session_run() on its own thread, top to
 * bottom, until the client logs out, the connection drops, it times out,
 * or the server shuts down (then it says "* BYE").
 *
 * Environment (read by imapd_config_init(), for tests):
 * MAILVAULT_IMAP_TIMEOUT (seconds without a command before a session is
 * dropped, default 1800), MAILVAULT_IMAP_DEBUG=1 (log every command
 * name, never a secret argument).
 */
#ifndef MAILVAULT_SERVER_IMAP_IMAPD_H
#define MAILVAULT_SERVER_IMAP_IMAPD_H

#include <sys/socket.h>

struct imapd_listcache;
struct server_shared;

#define IMAPD_TIMEOUT_MS	(30 * 60 * 1000)	/* RFC 3501: >= 30 min */
#define IMAPD_APPEND_MAX	(64ULL * 1024 * 1024)	/* largest APPEND */

struct imapd_config {
	struct server_shared *sh;	/* the epoch's, shared with POP3 */
	int		 timeout_ms;	/* idle timeout */
	int		 debug;		/* log command names */
	struct imapd_listcache *cache;	/* big mailboxes' lists, under
					 * sh->lock; freed by
					 * imapd_config_clear() */
};

/* Defaults and the environment into *cfg, serving the epoch's sh. */
void	imapd_config_init(struct imapd_config *cfg, struct server_shared *sh);
/* Free what the sessions left in cfg (when none runs any more). */
void	imapd_config_clear(struct imapd_config *cfg);

/*
 * Serve one connection: fd is a connected socket, owned by the session
 * from now on (closed before returning). implicit_tls: IMAPS.
 * shutdown_fd becomes readable when the server stops.
 */
void	imapd_session_run(struct imapd_config *cfg, int fd, int implicit_tls,
	    int shutdown_fd, const struct sockaddr *peer);

/* Write one log line to stderr (whole lines, under a lock). */
void	imapd_log_line(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
