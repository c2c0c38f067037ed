/*
 * listen: the server's loopback listeners and the threads of their
 * connections (private to server/).
 *
 * A listener set binds every configured address and port, refusing at
 * start any address that is not loopback, then runs one accept thread
 * that poll()s the listening sockets and a stop pipe. Each accepted peer
 * is checked to be loopback again (and dropped otherwise) and gets its
 * own detached thread that calls the handler; past max_sessions live
 * sessions a new connection is closed at once.
 *
 * Stopping: listen_stop() stops accepting, closes the write end of the
 * shutdown pipe, so the read end that listen_shutdown_fd() gives becomes
 * readable for ever after (sessions poll it, e.g. as their stream's
 * cancel descriptor, and end with a BYE), and waits a bounded time for
 * the sessions to finish. The set's memory lives until the last session
 * has returned, so a session that outlives the wait is still safe.
 */
#ifndef MAILVAULT_SERVER_LISTEN_H
#define MAILVAULT_SERVER_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

#define LISTEN_MAX_SESSIONS	256	/* default limit of live sessions */
#define LISTEN_PORT_ANY		(-1)	/* let the kernel choose (tests) */
#define LISTEN_STOP_WAIT_MS	5000	/* a sensible wait for listen_stop */

/* One listener. */
struct listen_spec {
	const char	*addr;		/* "127.0.0.1", "::1", "localhost" */
	int		 port;		/* 0: this listener is off;
					 * LISTEN_PORT_ANY: an ephemeral port */
	int		 tag;		/* passed to the handler: which
					 * protocol this listener serves */
	int		 implicit_tls;	/* 1: TLS from the first byte (IMAPS,
					 * POP3S); shown by listen_describe() */
	const char	*option;	/* the option that sets the port,
					 * for messages ("--imap-port");
					 * may be NULL */
};

/*
 * Runs on the session's own thread. It owns fd (a blocking, close-on-exec
 * socket) and must close it; peer is valid during the call. The tag is
 * the spec's; arg is listen_start's.
 */
typedef void	listen_handler_fn(void *arg, int fd, int tag,
		    const struct sockaddr *peer);

struct listen_set;

/*
 * Bind every spec whose port is not 0 (SO_REUSEADDR, close-on-exec) and
 * start accepting. max_sessions 0 means LISTEN_MAX_SESSIONS. Returns 0 and
 * *ls_r, written before the first session can start (so a handler may
 * read it through arg), or -1 and a sentence in err: a non-loopback
 * address, "port 1143 on 127.0.0.1 is in use (another mailvault or
 * Dovecot?); choose another with --imap-port", ... Nothing is left bound
 * on failure. With no spec enabled, it runs with nothing to accept.
 */
int	listen_start(const struct listen_spec *specs, size_t nspecs,
	    listen_handler_fn *handler, void *arg, size_t max_sessions,
	    struct listen_set **ls_r, char *err, size_t errlen);

/*
 * The read end of the shutdown pipe: readable (end of file) once
 * listen_stop() has begun. Owned by the set; valid while any session
 * runs.
 */
int	listen_shutdown_fd(const struct listen_set *ls);

/* Sessions whose handler has not returned yet. */
size_t	listen_live_sessions(struct listen_set *ls);

/* Connections refused so far (limit reached, or a non-loopback peer). */
size_t	listen_refused(struct listen_set *ls);

/*
 * The port spec i (the index given to listen_start) is bound to, useful
 * with LISTEN_PORT_ANY; 0 when that spec is off.
 */
int	listen_port(const struct listen_set *ls, size_t i);

/* "IMAP 127.0.0.1:1143, IMAPS 127.0.0.1:1993 (TLS)"-style text for spec i,
 * given its protocol name, into out; "" when it is off. */
void	listen_describe(const struct listen_set *ls, size_t i,
	    const char *proto, char *out, size_t outlen);

/*
 * Stop: close the listeners, signal the sessions through the shutdown
 * descriptor, and wait up to wait_ms (negative: for ever) for them to
 * return. Frees the set (at once, or when its last session returns) and
 * clears *ls. Returns 0 when every session has finished, else the number
 * still running; the handler's arg must then stay valid until they end.
 * NULL is fine.
 */
int	listen_stop(struct listen_set **ls, int wait_ms);

#endif
